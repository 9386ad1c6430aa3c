#!/usr/bin/env python3
"""Real pods on the containerd driver (Linux, root): how long `cubby start` takes until the node is Ready,
how long a pod takes from create to Running (image present) against the same pods made straight through
CRI, how long a 30-replica Deployment takes to be all Ready, and the memory of localkube and containerd.

Usage: python3 Benchmarks/runtime_bench.py [path/to/cubby] [path/to/cubby-cri-bench]
It makes a profile of its own in a temporary CUBBY_HOME and deletes it at the end. Pods are created one
after another (the next once the previous runs), so each figure is a latency, not a queue.
"""
import json
import os
import random
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from kubernetes import client, config, watch

ROOT = Path(__file__).resolve().parents[1]
BIN = sys.argv[1] if len(sys.argv) > 1 else str(ROOT / ".build/release/cubby")
CRI_BENCH = sys.argv[2] if len(sys.argv) > 2 else str(Path(BIN).parent / "cubby-cri-bench")
COUNT = 30
SANDBOX = "localhost/cubby/pause:3.10"


def rss_mb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def containerd_pid(name):
    return int(Path(f"/run/cubby/{name}/containerd.pid").read_text())


def percentile(xs, p):
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, int(len(s) * p + 0.999999) - 1))]


def pod(name):
    return client.V1Pod(metadata=client.V1ObjectMeta(name=name, labels={"bench": "pods"}),
                        spec=client.V1PodSpec(termination_grace_period_seconds=1, containers=[
                            client.V1Container(name="web", image="busybox:1.35", command=["httpd", "-f", "-p", "8080"])]))


def until_running(core, name, started):
    w = watch.Watch()
    for event in w.stream(core.list_namespaced_pod, "default", field_selector=f"metadata.name={name}", timeout_seconds=60):
        if event["object"].status.phase == "Running":
            w.stop()
            return time.monotonic() - started
    raise RuntimeError(f"{name} did not run within 60 s")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        name = f"bench-{random.randrange(16 ** 4):04x}"
        env = dict(os.environ, CUBBY_HOME=os.path.join(tmp, "home"), KUBECONFIG=os.path.join(tmp, "kubeconfig"))
        images = Path(tmp) / "images"
        subprocess.run([sys.executable, str(ROOT / "scripts/build-test-images.py"), str(images)], check=True)

        def cubby(*args):
            return subprocess.run([BIN, *args, "-p", name], env=env, check=True, capture_output=True, text=True)

        try:
            # `cubby start` until the node reports Ready, on a fresh profile (read with the admin's
            # token over plain urllib: the Python client's own set-up takes half a second).
            started = time.monotonic()
            cubby("start", "--driver", "containerd", "--sandbox-image", SANDBOX)
            profile = Path(env["CUBBY_HOME"]) / "profiles" / name
            port = json.loads((profile / "config.json").read_text())["port"]
            tls = ssl.create_default_context(cafile=str(profile / "pki/ca.crt"))
            request = urllib.request.Request(f"https://127.0.0.1:{port}/api/v1/nodes",
                                             headers={"Authorization": "Bearer " + (profile / "token").read_text().strip()})
            while not any(c["type"] == "Ready" and c["status"] == "True"
                          for n in json.load(urllib.request.urlopen(request, context=tls))["items"]
                          for c in n.get("status", {}).get("conditions", [])):
                time.sleep(0.005)
            start_seconds = time.monotonic() - started
            api = config.new_client_from_config(config_file=env["KUBECONFIG"])
            core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
            cubby("image", "load", str(images / "busybox.tar"))
            localkube = int((profile / "localkube.pid").read_text())
            # The sandbox image is made on first use; one pod first, so neither path pays for it.
            core.create_namespaced_pod("default", pod("warm-up"))
            until_running(core, "warm-up", time.monotonic())
            core.delete_namespaced_pod("warm-up", "default", grace_period_seconds=0)
            time.sleep(3)
            idle = rss_mb(localkube), rss_mb(containerd_pid(name))

            raw = json.loads(subprocess.run([CRI_BENCH, "--socket", f"/run/cubby/{name}/containerd.sock",
                                             "--logs", str(profile / "logs/cri-bench"), "--count", str(COUNT),
                                             "--cgroup-parent", f"/cubby-{name}"],
                                            check=True, capture_output=True, text=True).stdout)

            samples = []
            for i in range(COUNT):
                t0 = time.monotonic()
                core.create_namespaced_pod("default", pod(f"p{i}"))
                samples.append(until_running(core, f"p{i}", t0))
            busy = rss_mb(localkube), rss_mb(containerd_pid(name))
            core.delete_collection_namespaced_pod("default", label_selector="bench=pods", grace_period_seconds=1)
            while core.list_namespaced_pod("default", label_selector="bench=pods").items:
                time.sleep(0.2)

            deployment = client.V1Deployment(
                metadata=client.V1ObjectMeta(name="web"),
                spec=client.V1DeploymentSpec(replicas=COUNT, selector=client.V1LabelSelector(match_labels={"app": "web"}),
                                             template=client.V1PodTemplateSpec(
                                                 metadata=client.V1ObjectMeta(labels={"app": "web"}),
                                                 spec=client.V1PodSpec(termination_grace_period_seconds=1, containers=[
                                                     client.V1Container(name="web", image="busybox:1.35",
                                                                        command=["httpd", "-f", "-p", "8080"])]))))
            t0 = time.monotonic()
            apps.create_namespaced_deployment("default", deployment)
            while (apps.read_namespaced_deployment("web", "default").status.ready_replicas or 0) < COUNT:
                time.sleep(0.05)
            deployment_seconds = time.monotonic() - t0
            loaded = rss_mb(localkube), rss_mb(containerd_pid(name))
        finally:
            subprocess.run([BIN, "delete", "-p", name], env=env, capture_output=True)

    ms = [s * 1000 for s in samples]
    p50, p95 = statistics.median(ms), percentile(ms, 0.95)
    print(f"cubby-runtime-bench: {BIN}, {os.cpu_count()} cores, containerd driver")
    print(f"cubby start to node Ready: {start_seconds:.2f} s (target < 2 s)")
    print(f"pod create to Running, {COUNT} pods one after another: p50 {p50:.0f} ms, p95 {p95:.0f} ms; "
          f"straight through CRI (sandbox + create + start): p50 {raw['p50_ms']:.0f} ms, p95 {raw['p95_ms']:.0f} ms; "
          f"ratio p50 {p50 / raw['p50_ms']:.2f} (target <= 1.5)")
    print(f"{COUNT}-replica deployment all Ready: {deployment_seconds:.2f} s")
    print(f"RSS idle: localkube {idle[0]:.1f} MB, containerd {idle[1]:.1f} MB; with {COUNT} pods: localkube {busy[0]:.1f} MB, "
          f"containerd {busy[1]:.1f} MB; with the {COUNT}-replica deployment: localkube {loaded[0]:.1f} MB, containerd {loaded[1]:.1f} MB")


if __name__ == "__main__":
    main()
