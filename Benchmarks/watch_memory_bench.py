"""Memory given back after a watch burst (issue 17): a fresh localkube (release build, simulated nodes); 200 watchers
that send their request and never read; 10,000 creates of 1 KB configmaps from 8 clients; then the watchers close.
Prints localkube's RSS before, at its peak, and each 10 s for 30 s after the close. "Before" is taken after a warm-up
(the same burst at a tenth of the size, its objects deleted again), so that it counts the code pages a burst first
touches (about 12 MB of the binary) as resident already and the figures show held memory. A second round opens 200
stalled watchers on the namespace that now holds 10,000 objects (each is owed the whole initial state) and writes
10,000 more.

usage: python3 Benchmarks/watch_memory_bench.py [path/to/cubby]"""
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from benchkit import release_binary, start_creating, unverified_tls

BIN = release_binary(1, "cubby")
WATCHERS, WRITES, CLIENTS = 200, 10_000, 8


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS:")) / 1024


def round_of(pid, port, token, first, label, watchers=WATCHERS, writes=WRITES):
    before = rss_mb(pid)
    watch = (f"GET /api/v1/namespaces/default/configmaps?watch=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
             f"Authorization: Bearer {token}\r\n\r\n").encode()
    stalled = []
    for _ in range(watchers):
        s = unverified_tls().wrap_socket(socket.create_connection(("127.0.0.1", port)))
        s.sendall(watch)
        stalled.append(s)
    objects = (("/api/v1/namespaces/default/configmaps",
                {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"cm-{i}"}, "data": {"d": "x" * 1024}})
               for i in range(first, first + writes))
    writers = start_creating(port, token, objects, CLIENTS)
    started = time.monotonic()
    peak = before
    while any(w.is_alive() for w in writers):
        peak = max(peak, rss_mb(pid))
        time.sleep(0.25)
    took = time.monotonic() - started
    peak = max(peak, rss_mb(pid))
    for s in stalled:
        s.close()
    if label is None:
        return
    after = []
    for _ in range(3):
        time.sleep(10)
        after.append(rss_mb(pid))
    print(f"{label}: RSS {before:.0f} MB before, {peak:.0f} MB at the peak ({WRITES:,} creates in {took:.1f} s); after the "
          f"watchers closed: {after[0]:.0f} / {after[1]:.0f} / {after[2]:.0f} MB at 10 / 20 / 30 s "
          f"({after[2] - before:+.0f} MB against before)", flush=True)


def main():
    data = Path(tempfile.mkdtemp(prefix="cubby-watch-memory-"))
    port = free_port()
    proc = subprocess.Popen([BIN, "localkube", "--data-dir", str(data), "--port", str(port), "--driver", "simulated"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 30
        while True:
            try:
                with urllib.request.urlopen(f"https://127.0.0.1:{port}/readyz", context=unverified_tls(), timeout=1):
                    if (data / "token").exists():
                        break
            except OSError:
                if time.time() > deadline:
                    raise
            time.sleep(0.1)
        time.sleep(3)  # the controllers' first passes
        token = (data / "token").read_text().strip()
        round_of(proc.pid, port, token, 0, None, watchers=WATCHERS // 10, writes=WRITES // 10)
        subprocess.run(["kubectl", "--kubeconfig", str(data / "kubeconfig"), "delete", "configmaps", "--all", "-n", "default"],
                       check=True, capture_output=True, timeout=300)
        time.sleep(10)
        round_of(proc.pid, port, token, 0, f"{WATCHERS} stalled watchers, {WRITES:,} creates (empty namespace)")
        round_of(proc.pid, port, token, WRITES, f"{WATCHERS} stalled watchers owed {WRITES:,} objects each, {WRITES:,} creates")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
