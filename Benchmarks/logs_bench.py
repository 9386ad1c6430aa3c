#!/usr/bin/env python3
"""`kubectl logs -f` latency on a real pod (Linux, root): from the moment a line is written to the moment
kubectl prints it.

Usage: python3 Benchmarks/logs_bench.py [path/to/cubby]
It makes a profile of its own in a temporary CUBBY_HOME and deletes it at the end. The pod writes line N
as soon as a file N appears on its hostPath volume (it looks every 2 ms) and touches N.written right
after; the latency is from that file's modification time (the same clock as this script's) to when the
line arrives on kubectl's standard output.
"""
import os
import random
import select
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = sys.argv[1] if len(sys.argv) > 1 else str(ROOT / ".build/release/cubby")
LINES = 200


def main():
    with tempfile.TemporaryDirectory(prefix="cubby-logs-bench-") as tmp:
        home, name = Path(tmp), f"logbench-{random.randrange(16 ** 4):04x}"
        signals = home / "signals"
        signals.mkdir()
        (home / "resolv.conf").write_text("nameserver 127.0.0.1\n")
        env = dict(os.environ, CUBBY_HOME=str(home), KUBECONFIG=str(home / "kubeconfig"))

        def run(*args, input=None):
            return subprocess.run(args, env=env, input=input, capture_output=True, text=True, check=True, timeout=300).stdout

        subprocess.run([sys.executable, str(ROOT / "scripts/build-test-images.py"), str(home / "images")], check=True, capture_output=True)
        run(BIN, "start", "-p", name, "--driver", "containerd", "--sandbox-image", "localhost/cubby/pause:3.10",
            "--resolv-conf", str(home / "resolv.conf"))
        follower = None
        try:
            run(BIN, "image", "load", str(home / "images/busybox.tar"), "-p", name)
            script = ("i=1; while true; do while [ ! -e /s/$i ]; do usleep 2000; done; echo line $i; touch /s/$i.written; i=$((i+1)); done")
            run("kubectl", "--context", name, "run", "writer", "--image=busybox:1.35", f"--overrides={{\"spec\":{{\"volumes\":[{{\"name\":\"s\",\"hostPath\":{{\"path\":\"{signals}\"}}}}],\"containers\":[{{\"name\":\"writer\",\"image\":\"busybox:1.35\",\"command\":[\"sh\",\"-c\",\"{script}\"],\"volumeMounts\":[{{\"name\":\"s\",\"mountPath\":\"/s\"}}]}}]}}}}")
            run("kubectl", "--context", name, "wait", "--for=condition=Ready", "pod/writer", "--timeout=60s")
            follower = subprocess.Popen(["kubectl", "--context", name, "logs", "-f", "writer"], env=env, stdout=subprocess.PIPE, bufsize=0)
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
            latencies.sort()
            p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000
            print(f"kubectl logs -f, {LINES} lines one at a time: p50 {p(0.5):.1f} ms, p99 {p(0.99):.1f} ms, max {latencies[-1] * 1000:.1f} ms "
                  f"(target p99 < 100 ms); mean {statistics.mean(latencies) * 1000:.1f} ms")
        finally:
            if follower:
                follower.kill()
            subprocess.run([BIN, "delete", "-p", name], env=env, capture_output=True, timeout=120)


if __name__ == "__main__":
    main()
