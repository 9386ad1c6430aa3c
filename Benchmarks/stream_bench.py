#!/usr/bin/env python3
"""`kubectl exec` and `kubectl port-forward` on a real pod (Linux, root), against their floors.

Usage: python3 Benchmarks/stream_bench.py [path/to/cubby] [path/to/cubby-cri-bench]
It makes a profile of its own (Benchmarks/benchkit.py) and deletes it at the end.
- exec: `kubectl exec POD -- true` wall time, against the same `true` run straight through CRI (Exec
  and its stream on containerd's streaming server, as crictl exec runs it, by cubby-cri-bench; CRI's
  ExecSync shown too) plus kubectl's own start-up (`kubectl version --client`); target p50 <= 1.5 x
  CRI + start-up. `kubectl get pod` is shown as well: kubectl reads the pod before it execs.
- port-forward: a 100 MB download through `kubectl port-forward` against the same download
  straight from the pod's address; target >= 0.5 x.
"""
import json
import socket
import statistics
import subprocess
import time
import urllib.request

from benchkit import containerd_profile, release_binary

BIN = release_binary(1, "cubby")
CRI_BENCH = release_binary(2, "cubby-cri-bench")
RUNS = 30
SIZE = 100 * 1024 * 1024


def wall(args, env):
    started = time.perf_counter()
    subprocess.run(args, env=env, check=True, capture_output=True, timeout=60)
    return (time.perf_counter() - started) * 1000


def download(url):
    started = time.perf_counter()
    total = 0
    with urllib.request.urlopen(url, timeout=120) as r:
        while chunk := r.read(1 << 20):
            total += len(chunk)
    assert total == SIZE, total
    return SIZE / (1 << 20) / (time.perf_counter() - started)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    with containerd_profile(BIN, "streambench") as p:
        p.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "target"},
                 "spec": {"terminationGracePeriodSeconds": 0,
                          "containers": [{"name": "web", "image": "busybox:1.35", "command": ["sh", "-c",
                                          f"mkdir /www && head -c {SIZE} /dev/zero > /www/big && exec httpd -f -p 80 -h /www"],
                                          "readinessProbe": {"tcpSocket": {"port": 80}, "periodSeconds": 1}}]}})
        p.kubectl("wait", "--for=condition=Ready", "pod/target", "--timeout=90s")
        pod = json.loads(p.kubectl("get", "pod", "target", "-o", "json"))
        container = pod["status"]["containerStatuses"][0]["containerID"].split("//")[-1]

        kubectl = ["kubectl", "--context", p.name]
        startup = statistics.median(wall(kubectl + ["version", "--client"], p.env) for _ in range(RUNS))
        execs = [wall(kubectl + ["exec", "target", "--", "true"], p.env) for _ in range(RUNS)]
        get = statistics.median(wall(kubectl + ["get", "pod", "target"], p.env) for _ in range(RUNS))

        def cri(*mode):
            out = subprocess.run([CRI_BENCH, "--socket", f"/run/cubby/{p.name}/containerd.sock", "--exec", container,
                                  "--count", str(RUNS), *mode], check=True, capture_output=True, text=True).stdout
            return json.loads(out)["p50_ms"]
        streamed, sync = cri(), cri("--sync")
        exec_p50 = statistics.median(execs)
        budget = 1.5 * streamed + startup
        print(f"kubectl exec POD -- true, {RUNS} runs: p50 {exec_p50:.1f} ms; straight through CRI (Exec + stream) p50 {streamed:.1f} ms, "
              f"CRI ExecSync p50 {sync:.1f} ms; kubectl start-up p50 {startup:.1f} ms, kubectl get pod p50 {get:.1f} ms; "
              f"target <= 1.5 x CRI + start-up = {budget:.1f} ms")

        direct = statistics.median(download(f"http://{pod['status']['podIP']}/big") for _ in range(3))
        local = free_port()
        forward = subprocess.Popen(kubectl + ["port-forward", "pod/target", f"{local}:80"], env=p.env,
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            forward.stdout.readline()
            through = statistics.median(download(f"http://127.0.0.1:{local}/big") for _ in range(3))
        finally:
            forward.terminate()
            forward.wait()
        print(f"port-forward, 100 MB download: {through:.0f} MB/s through kubectl port-forward, {direct:.0f} MB/s straight "
              f"to the pod ({through / direct:.2f} x; target >= 0.5 x)")


if __name__ == "__main__":
    main()
