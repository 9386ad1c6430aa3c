#!/usr/bin/env python3
"""Cluster DNS throughput and latency with dnsperf (Debian's), for cluster names and for external names
the DNS forwards once and then answers from its cache.

Usage: python3 Benchmarks/dns_bench.py [path/to/cubby]
Runs `cubby localkube` (simulated nodes) with its DNS on 127.0.0.1 and 200 services; names outside the
cluster go to a resolver of the benchmark's own on loopback, so nothing leaves the machine. Each mix is
measured twice: saturated (100 queries outstanding: the most it answers per second) and paced at
10,000 and 20,000 queries/s (the latency a client sees short of saturation; p99 from every query's
latency as dnsperf -v reports it).
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchkit import loopback_resolver

BIN = sys.argv[1] if len(sys.argv) > 1 else ".build/release/cubby"
SERVICES = 200


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def dnsperf(port, queries, *args, seconds=10):
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("".join(f"{q} A\n" for q in queries))
    try:
        out = subprocess.run(["dnsperf", "-s", "127.0.0.1", "-p", str(port), "-d", f.name, "-l", str(seconds), "-v", *args],
                             capture_output=True, text=True, timeout=seconds + 60).stdout
    finally:
        os.unlink(f.name)
    qps = float(re.search(r"Queries per second:\s+([\d.]+)", out).group(1))
    lost = re.search(r"Queries lost:\s+(\d+)", out).group(1)
    latencies = sorted(float(m) for m in re.findall(r"^> \S+ \S+ \S+ ([\d.]+)$", out, re.M))
    codes = set(re.findall(r"^> (\S+) ", out, re.M))
    p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000 if latencies else float("nan")
    return qps, p(0.5), p(0.99), lost, codes


def main():
    if shutil.which("dnsperf") is None:
        apt = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        install = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "dnsperf"]
        if subprocess.run(install, env=apt).returncode != 0:  # a fresh machine has no package lists yet
            subprocess.run(["apt-get", "update", "-qq"], env=apt, check=True)
            subprocess.run(install, env=apt, check=True)
    with tempfile.TemporaryDirectory(prefix="cubby-dns-bench-") as tmp:
        upstream = loopback_resolver("127.0.0.55", answer="192.0.2.1")
        resolv = Path(tmp) / "resolv.conf"
        resolv.write_text("nameserver 127.0.0.55\n")
        dns_port, port = free_port(), free_port()
        proc = subprocess.Popen([BIN, "localkube", "--data-dir", f"{tmp}/data", "--port", str(port), "--driver", "simulated",
                                 "--dns-port", str(dns_port), "--resolv-conf", str(resolv)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            kubeconfig = Path(tmp) / "data" / "kubeconfig"
            while not kubeconfig.exists():
                time.sleep(0.05)
            services = [{"apiVersion": "v1", "kind": "Service", "metadata": {"name": f"web-{i}", "namespace": "default"},
                         "spec": {"selector": {"app": f"web-{i}"}, "ports": [{"name": "http", "port": 80}]}} for i in range(SERVICES)]
            subprocess.run(["kubectl", "apply", "-f", "-"], input=json.dumps({"apiVersion": "v1", "kind": "List", "items": services}),
                           env=dict(os.environ, KUBECONFIG=str(kubeconfig)), check=True, capture_output=True, text=True)
            time.sleep(1)
            mixes = {"cluster names": [f"web-{i}.default.svc.cluster.local" for i in range(SERVICES)],
                     "external names (cached)": [f"host-{i}.example.test" for i in range(SERVICES)]}
            print(f"cluster DNS, {SERVICES} services, dnsperf 10 s per run (2 cores shared with dnsperf)")
            for name, queries in mixes.items():
                dnsperf(dns_port, queries, seconds=2)  # warm: the external names are cached from here on
                qps, p50, p99, lost, codes = dnsperf(dns_port, queries)
                print(f"  {name}: saturated {qps:,.0f} q/s (p50 {p50:.2f} ms, p99 {p99:.2f} ms, lost {lost}, {'/'.join(sorted(codes))})")
                for rate in (10000, 20000):
                    qps, p50, p99, lost, codes = dnsperf(dns_port, queries, "-Q", str(rate))
                    print(f"  {name}: paced at {rate:,} q/s: {qps:,.0f} q/s, p50 {p50:.2f} ms, p99 {p99:.2f} ms, lost {lost}")
            rss = next(int(l.split()[1]) / 1024 for l in open(f"/proc/{proc.pid}/status") if l.startswith("VmRSS:"))
            print(f"  localkube RSS after the runs: {rss:.0f} MB")
        finally:
            proc.terminate()
            proc.wait(timeout=30)
            upstream.close()


if __name__ == "__main__":
    main()
