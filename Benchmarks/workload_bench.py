#!/usr/bin/env python3
"""Workloads on simulated nodes: how long a 1,000-replica Deployment takes to be all Ready (10 nodes),
how fast 5,000 pods are scheduled onto 100 nodes, and localkube's memory with that load.

Usage: python3 Benchmarks/workload_bench.py [path/to/cubby]
Each scenario runs `cubby localkube` on a fresh temporary data dir and drives it with the Python client.
"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from kubernetes import client, config, watch

BIN = sys.argv[1] if len(sys.argv) > 1 else ".build/release/cubby"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Localkube:
    def __init__(self, tmp, nodes):
        self.dir = Path(tmp) / "data"
        self.port = free_port()
        self.proc = subprocess.Popen([BIN, "localkube", "--data-dir", str(self.dir), "--port", str(self.port),
                                      "--nodes", str(nodes), "--driver", "simulated"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        kubeconfig = self.dir / "kubeconfig"
        while not kubeconfig.exists():
            time.sleep(0.02)
        time.sleep(0.2)
        api = config.new_client_from_config(config_file=str(kubeconfig))
        self.core, self.apps = client.CoreV1Api(api), client.AppsV1Api(api)
        while len(self.core.list_node().items) < nodes:
            time.sleep(0.05)

    def rss_mb(self, field="VmRSS"):
        """Resident memory now, or at its peak so far with field="VmHWM"."""
        for line in open(f"/proc/{self.proc.pid}/status"):
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


def deployment(name, replicas):
    return client.V1Deployment(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1DeploymentSpec(
            replicas=replicas, selector=client.V1LabelSelector(match_labels={"app": name}),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels={"app": name}),
                spec=client.V1PodSpec(containers=[client.V1Container(
                    name="c", image="nginx", resources=client.V1ResourceRequirements(requests={"cpu": "10m", "memory": "16Mi"}))]))))


def ready_deployment(tmp):
    lk = Localkube(tmp, nodes=10)
    try:
        t0 = time.perf_counter()
        lk.apps.create_namespaced_deployment("default", deployment("big", 1000))
        while (lk.apps.read_namespaced_deployment_status("big", "default").status.ready_replicas or 0) < 1000:
            time.sleep(0.05)
        return time.perf_counter() - t0, lk.rss_mb()
    finally:
        lk.stop()


def scheduling(tmp):
    lk = Localkube(tmp, nodes=100)
    try:
        bound, resumed = {}, []
        rv = lk.core.list_namespaced_pod("default").metadata.resource_version

        def follow():
            # curl streams the watch (the Python client's watch cannot keep up with 20,000
            # events); lines are timed on arrival. A watch that ends is resumed from the last
            # resourceVersion seen, as clients do.
            token = (lk.dir / "token").read_text().strip()
            last, deadline = rv, time.time() + 120
            while len(bound) < 5000 and time.time() < deadline:
                curl = subprocess.Popen(["curl", "-sN", "--cacert", str(lk.dir / "pki" / "ca.crt"), "-H", f"Authorization: Bearer {token}",
                                         f"https://127.0.0.1:{lk.port}/api/v1/namespaces/default/pods?watch=true&resourceVersion={last}"
                                         "&timeoutSeconds=120"], stdout=subprocess.PIPE)
                for line in curl.stdout:
                    pod = json.loads(line)["object"]
                    last = pod["metadata"]["resourceVersion"]
                    name = pod["metadata"]["name"]
                    if pod["spec"].get("nodeName") and name not in bound:
                        bound[name] = time.perf_counter()
                        if len(bound) >= 5000:
                            break
                else:
                    resumed.append(len(bound))
                curl.kill()

        t = threading.Thread(target=follow)
        t.start()
        time.sleep(0.3)
        t0 = time.perf_counter()
        lk.apps.create_namespaced_deployment("default", deployment("wide", 5000))
        t.join(180)
        times = sorted(bound.values())
        rate = len(times) / (times[-1] - times[0]) if len(times) > 1 else 0.0
        total = times[-1] - t0 if times else 0.0
        # Memory is read once every pod is Running and Ready, so it holds all 5,000 at full size.
        deadline = time.time() + 120
        while (lk.apps.read_namespaced_deployment_status("wide", "default").status.ready_replicas or 0) < 5000 and time.time() < deadline:
            time.sleep(0.2)
        ready = time.perf_counter() - t0
        rss, peak = lk.rss_mb(), lk.rss_mb("VmHWM")
        if resumed:
            print(f"(the watch ended and was resumed after {resumed} bound pods)", file=sys.stderr)
        return len(times), rate, total, ready, rss, peak
    finally:
        lk.stop()


def main():
    with tempfile.TemporaryDirectory() as tmp:
        seconds, rss = ready_deployment(tmp)
    print(f"cubby-workload-bench: {BIN}, {os.cpu_count()} cores")
    print(f"1,000-replica deployment all Ready on 10 simulated nodes: {seconds:.2f} s (target < 10 s); RSS after {rss:.0f} MB")
    with tempfile.TemporaryDirectory() as tmp:
        count, rate, total, ready, rss, peak = scheduling(tmp)
    print(f"5,000 pods scheduled onto 100 simulated nodes: {count} bound, {rate:.0f} pods/s from first to last binding "
          f"(target >= 500), all bound {total:.2f} s and all Ready {ready:.2f} s after the Deployment was created; localkube RSS {rss:.0f} MB, peak {peak:.0f} MB (target < 500 MB)")


main()
