#!/usr/bin/env python3
"""cubby start (first start and restart), cubby upgrade (of a running cluster) and cubby stop wall times, median of
repeated runs.

Usage: python3 Benchmarks/cli_bench.py [path/to/cubby] [runs]
Runs in a temporary CUBBY_HOME and KUBECONFIG, so the user's own clusters are not touched.
"""
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

BIN = sys.argv[1] if len(sys.argv) > 1 else ".build/release/cubby"
RUNS = int(sys.argv[2]) if len(sys.argv) > 2 else 10


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def timed(env, *args):
    t0 = time.perf_counter()
    subprocess.run([BIN, *args], env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main():
    first, restart, upgrade, stop = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, CUBBY_HOME=os.path.join(tmp, "home"), KUBECONFIG=os.path.join(tmp, "kubeconfig"))
        for i in range(RUNS):
            port = str(free_port())
            first.append(timed(env, "start", "-p", f"b{i}", "--port", port, "--driver", "simulated"))
            stop.append(timed(env, "stop", "-p", f"b{i}"))
            restart.append(timed(env, "start", "-p", f"b{i}"))
            upgrade.append(timed(env, "upgrade", "-p", f"b{i}"))
            stop.append(timed(env, "stop", "-p", f"b{i}"))
            subprocess.run([BIN, "delete", "-p", f"b{i}"], env=env, check=True, stdout=subprocess.DEVNULL)
    ms = lambda xs: f"median {statistics.median(xs) * 1000:.0f} ms (min {min(xs) * 1000:.0f}, max {max(xs) * 1000:.0f})"
    print(f"cubby-cli-bench: {BIN}, {RUNS} runs, {os.cpu_count()} cores")
    print(f"cubby start, first (profile, certificates, store): {ms(first)}")
    print(f"cubby start, restart: {ms(restart)}")
    print(f"cubby upgrade, running (stop, check store, start): {ms(upgrade)}")
    print(f"cubby stop: {ms(stop)}")


main()
