#!/usr/bin/env python3
"""`kubectl logs -f` latency on a real pod (Linux, root): from the moment a line is written to the moment
kubectl prints it.

Usage: python3 Benchmarks/logs_bench.py [path/to/cubby]
It makes a profile of its own (Benchmarks/benchkit.py) and deletes it at the end. The pod writes line N
as soon as a file N appears on its hostPath volume (it looks every 2 ms) and touches N.written right
after; the latency is from that file's modification time (the same clock as this script's) to when the
line arrives on kubectl's standard output.
"""
import os
import select
import subprocess
import statistics
import time

from benchkit import containerd_profile, release_binary

BIN = release_binary(1, "cubby")
LINES = 200


def main():
    with containerd_profile(BIN, "logbench") as p:
        signals = p.home / "signals"
        signals.mkdir()
        script = "i=1; while true; do while [ ! -e /s/$i ]; do usleep 2000; done; echo line $i; touch /s/$i.written; i=$((i+1)); done"
        p.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "writer"},
                 "spec": {"terminationGracePeriodSeconds": 0, "volumes": [{"name": "s", "hostPath": {"path": str(signals)}}],
                          "containers": [{"name": "writer", "image": "busybox:1.35", "command": ["sh", "-c", script],
                                          "volumeMounts": [{"name": "s", "mountPath": "/s"}]}]}})
        p.kubectl("wait", "--for=condition=Ready", "pod/writer", "--timeout=60s")
        follower = subprocess.Popen(["kubectl", "--context", p.name, "logs", "-f", "writer"], env=p.env, stdout=subprocess.PIPE, bufsize=0)
        try:
            latencies = []
            buffer = b""
            for i in range(1, LINES + 1):
                (signals / str(i)).touch()
                expected = f"line {i}\n".encode()
                deadline = time.time() + 10
                while expected not in buffer and time.time() < deadline:
                    ready, _, _ = select.select([follower.stdout], [], [], 0.5)
                    if ready:
                        buffer += os.read(follower.stdout.fileno(), 65536)
                arrived = time.time()
                if expected not in buffer:
                    raise RuntimeError(f"line {i} never arrived")
                buffer = buffer.split(expected, 1)[1]
                latencies.append(arrived - (signals / f"{i}.written").stat().st_mtime_ns / 1e9)
                time.sleep(0.01)
        finally:
            follower.kill()
        latencies.sort()
        pct = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000
        print(f"kubectl logs -f, {LINES} lines one at a time: p50 {pct(0.5):.1f} ms, p99 {pct(0.99):.1f} ms, max {latencies[-1] * 1000:.1f} ms "
              f"(target p99 < 100 ms); mean {statistics.mean(latencies) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
