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
        self.proc = subprocess.Popen([BIN, "localkube", "--data-dir", str(self.dir), "--port", str(free_port()),
                                      "--nodes", str(nodes)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        kubeconfig = self.dir / "kubeconfig"
        while not kubeconfig.exists():
            time.sleep(0.02)
        time.sleep(0.2)
        api = config.new_client_from_config(config_file=str(kubeconfig))
        self.core, self.apps = client.CoreV1Api(api), client.AppsV1Api(api)
        while len(self.core.list_node().items) < nodes:
            time.sleep(0.05)

    def rss_mb(self):
        for line in open(f"/proc/{self.proc.pid}/status"):
            if line.startswith("VmRSS:"):
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
        bound = {}
        rv = lk.core.list_namespaced_pod("default").metadata.resource_version

        def follow():
            # Raw lines, parsed with json: the client's model objects are too slow to keep up.
            resp = lk.core.list_namespaced_pod("default", watch=True, resource_version=rv, timeout_seconds=120,
                                               allow_watch_bookmarks=False, _preload_content=False)
            buffer = b""
            for chunk in resp.stream(65536):
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                now = time.perf_counter()
                for line in lines:
                    pod = json.loads(line)["object"]
                    name = pod["metadata"]["name"]
                    if pod["spec"].get("nodeName") and name not in bound:
                        bound[name] = now
                if len(bound) >= 5000:
                    resp.close()
                    return

        t = threading.Thread(target=follow)
        t.start()
        time.sleep(0.3)
        t0 = time.perf_counter()
        lk.apps.create_namespaced_deployment("default", deployment("wide", 5000))
        t.join(180)
        times = sorted(bound.values())
        rate = len(times) / (times[-1] - times[0]) if len(times) > 1 else 0.0
        total = times[-1] - t0 if times else 0.0
        idle = lk.rss_mb()
        return len(times), rate, total, idle
    finally:
        lk.stop()


def main():
    with tempfile.TemporaryDirectory() as tmp:
        seconds, rss = ready_deployment(tmp)
    print(f"cubby-workload-bench: {BIN}, {os.cpu_count()} cores")
    print(f"1,000-replica deployment all Ready on 10 simulated nodes: {seconds:.2f} s (target < 10 s); RSS after {rss:.0f} MB")
    with tempfile.TemporaryDirectory() as tmp:
        count, rate, total, rss = scheduling(tmp)
    print(f"5,000 pods scheduled onto 100 simulated nodes: {count} bound, {rate:.0f} pods/s from first to last binding "
          f"(target >= 500), all bound {total:.2f} s after the Deployment was created; localkube RSS {rss:.0f} MB (target < 500 MB)")


main()
