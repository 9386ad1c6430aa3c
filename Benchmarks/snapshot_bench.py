"""Snapshots against starting over (issue 18): a cluster (release build, simulated nodes, a CUBBY_HOME of its own) holding
10,000 objects of its users (1 KB configmaps in 10 namespaces, created by 8 clients); the wall time of `cubby snapshot
save` and of `cubby snapshot restore` into the running cluster after its objects changed (median of 5 each), and of a
restore into the stopped cluster; then, in the same run, what kind and minikube users do instead: `cubby delete`,
`cubby start` and `kubectl apply --server-side` of the same objects.

usage: python3 Benchmarks/snapshot_bench.py [path/to/cubby]"""
import json
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from benchkit import release_binary, start_creating

BIN = release_binary(1, "cubby")
OBJECTS, NAMESPACES, CLIENTS, RUNS = 10_000, 10, 8, 5


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def configmap(i):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"cm-{i}", "namespace": f"bench-{i % NAMESPACES}"},
            "data": {"d": "x" * 1024}}


def create_all(port, token):
    objects = ((f"/api/v1/namespaces/{cm['metadata']['namespace']}/configmaps", cm) for cm in map(configmap, range(OBJECTS)))
    for w in start_creating(port, token, objects, CLIENTS):
        w.join()


def timed(*args, env):
    started = time.monotonic()
    subprocess.run(args, check=True, capture_output=True, env=env, timeout=3600)
    return time.monotonic() - started


def count(env):
    out = subprocess.run(["kubectl", "get", "configmaps", "-A", "-o", "name"], capture_output=True, text=True,
                         env=env, check=True).stdout
    return sum(1 for line in out.splitlines() if "/cm-" in line)


def main():
    home = Path(tempfile.mkdtemp(prefix="cubby-snapshot-bench-"))
    env = dict(os.environ, CUBBY_HOME=str(home / "home"), KUBECONFIG=str(home / "kubeconfig"))
    port = free_port()
    cubby = lambda *args: subprocess.run([BIN, *args], check=True, capture_output=True, text=True, env=env, timeout=600)
    try:
        cubby("start", "--driver", "simulated", "--port", str(port))
        profile = home / "home" / "profiles" / "cubby"
        token = (profile / "token").read_text().strip()
        for n in range(NAMESPACES):
            subprocess.run(["kubectl", "create", "namespace", f"bench-{n}"], check=True, capture_output=True, env=env)
        created = time.monotonic()
        create_all(port, token)
        print(f"{OBJECTS:,} configmaps of 1 KB created by {CLIENTS} clients in {time.monotonic() - created:.1f} s", flush=True)
        time.sleep(2)

        saves = [timed(BIN, "snapshot", "save", "bench", "--force", env=env) for _ in range(RUNS)]
        manifest = json.loads((home / "home" / "snapshots" / "bench" / "manifest.json").read_text())
        size = (home / "home" / "snapshots" / "bench" / "state.db").stat().st_size / 1048576
        restores = []
        for _ in range(RUNS):
            # The cluster's objects change between restores, as a test run changes them.
            subprocess.run(["kubectl", "delete", "--raw", "/api/v1/namespaces/bench-0/configmaps"], check=True, capture_output=True, env=env)
            subprocess.run(["kubectl", "create", "configmap", "stray", "-n", "default"], check=True, capture_output=True, env=env)
            restores.append(timed(BIN, "snapshot", "restore", "bench", env=env))
            assert count(env) == OBJECTS, count(env)
        cubby("stop")
        stopped = timed(BIN, "snapshot", "restore", "bench", env=env)
        cubby("start")
        assert count(env) == OBJECTS

        # Starting over, as without snapshots: delete, start, apply the same objects again.
        manifests = home / "objects.yaml"
        items = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": f"bench-{n}"}} for n in range(NAMESPACES)]
        items += [configmap(i) for i in range(OBJECTS)]
        manifests.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
        started = time.monotonic()
        deleting = timed(BIN, "delete", env=env)
        starting = timed(BIN, "start", "--driver", "simulated", "--port", str(port), env=env)
        applying = timed("kubectl", "apply", "--server-side", "-f", str(manifests), env=env)
        over = time.monotonic() - started
        assert count(env) == OBJECTS

        print(f"snapshot of {manifest['objects']:,} objects (state.db {size:.1f} MiB), wall time of the command, median of {RUNS}:")
        print(f"  cubby snapshot save            {statistics.median(saves) * 1000:6.0f} ms  (min {min(saves) * 1000:.0f}, max {max(saves) * 1000:.0f})")
        print(f"  cubby snapshot restore         {statistics.median(restores) * 1000:6.0f} ms  (min {min(restores) * 1000:.0f}, max {max(restores) * 1000:.0f}; running cluster)")
        print(f"  cubby snapshot restore         {stopped * 1000:6.0f} ms  (stopped cluster)")
        print(f"  delete + start + kubectl apply {over * 1000:6.0f} ms  (delete {deleting * 1000:.0f}, start {starting * 1000:.0f}, "
              f"apply --server-side of {len(items):,} objects {applying * 1000:.0f}): restore is {over / statistics.median(restores):.0f}x faster", flush=True)
    finally:
        subprocess.run([BIN, "delete", "--all"], capture_output=True, env=env)
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
