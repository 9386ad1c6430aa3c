"""Cubby on etcd (Debian's etcd-server, on loopback): members failing under it, several API
servers on one etcd with controllers that fail over, and `cubby start --store etcd`."""
import json
import os
import shutil
import signal
import subprocess
import time

import pytest

from conftest import BIN, Cluster, free_port, free_port_run
from etcd import EtcdCluster

pytestmark = pytest.mark.skipif(shutil.which("etcd") is None, reason="etcd-server is not installed")


def on_etcd(data_dir, etcd, *extra, prefix="/registry"):
    return Cluster(data_dir, extra=("--store", "etcd", "--etcd-servers", etcd.servers, "--etcd-prefix", prefix, *extra))


def wait_for(what, check, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def configmap(name):
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\ndata: {{k: v}}\n"


@pytest.fixture
def etcd3():
    e = EtcdCluster(members=3).start()
    yield e
    e.stop()


def test_three_members_one_down_serves_two_down_refuses_writes_clearly(etcd3, tmp_path):
    c = on_etcd(tmp_path / "data", etcd3).start()
    try:
        c.kubectl("create", "-f", "-", input=configmap("before"))
        # One member gone: a quorum remains, so reads and writes go on (through the others).
        etcd3.kill(0)
        # Losing the leader fails requests until the two left elect another (a second or so).
        last = []

        def created(name):
            last[:] = [c.kubectl("create", "-f", "-", input=configmap(name), check=False)]
            return last[0].returncode == 0
        try:
            wait_for("writes with one member down", lambda: created("one-down"), timeout=30)
        except AssertionError as e:
            raise AssertionError(f"{e}: {last[0].stderr}\n{etcd3.logs()}") from None
        assert c.kubectl("get", "cm", "before", "one-down", "-o", "name").stdout.split() == ["configmap/before", "configmap/one-down"]
        # Two gone: no quorum. A write fails with a Status in bounded time, not a hang.
        etcd3.kill(1)
        started = time.time()
        failed = c.kubectl("create", "-f", "-", input=configmap("no-quorum"), check=False, timeout=60)
        assert failed.returncode != 0 and failed.stderr.startswith("Error from server"), failed.stderr
        assert time.time() - started < 30
        # A member back: a quorum again, and writes succeed again.
        etcd3.start_member(1)
        wait_for("writes after a member returned", lambda: created("back"))
        assert c.kubectl("get", "cm", "back", "-o", "name").stdout.strip() == "configmap/back"
    finally:
        c.stop()


def leases(c):
    items = json.loads(c.kubectl("get", "leases", "-n", "kube-system", "-o", "json").stdout)["items"]
    return {i["metadata"]["name"]: i["spec"].get("holderIdentity") for i in items}


def running_pods(c, app):
    pods = json.loads(c.kubectl("get", "pods", "-l", f"app={app}", "-o", "json").stdout)["items"]
    return [p for p in pods if p["status"].get("phase") == "Running" and p["spec"].get("nodeName")]


def test_two_localkubes_on_one_etcd_share_the_work_and_fail_over(tmp_path):
    etcd = EtcdCluster().start()
    first = on_etcd(tmp_path / "first", etcd, "--nodes", "2")
    second = on_etcd(tmp_path / "second", etcd, "--nodes", "2")
    try:
        # The first starts alone and leads; the second joins with the same credentials.
        first.start()
        wait_for("the first to lead", lambda: len(set(leases(first).values()) - {None}) == 1 and len(leases(first)) == 3)
        leader = set(leases(first).values()).pop()
        (tmp_path / "second").mkdir()
        for name in ("pki", "token", "basic-auth.csv"):
            src = tmp_path / "first" / name
            (shutil.copytree if src.is_dir() else shutil.copy)(src, tmp_path / "second" / name)
        second.start()
        # Created through the second server, rolled out by the first one's controllers.
        second.kubectl("create", "deployment", "web", "--image=nginx", "--replicas=3")
        wait_for("3 pods running", lambda: len(running_pods(second, "web")) == 3)
        assert set(leases(second).values()) == {leader}
        assert "became leader" not in second.log.read_text()

        first.stop(sig=signal.SIGKILL)
        killed = time.time()
        # Within the lease duration (15 s, checked every 2 s) the second takes over every Lease.
        wait_for("the second to lead", lambda: all(h not in (None, leader) for h in leases(second).values()), timeout=30)
        took = time.time() - killed
        assert took < 15 + 2 * 2.4, f"took {took:.1f} s"
        got = second.kubectl("get", "leases", "-n", "kube-system").stdout
        assert "kube-controller-manager" in got and "kube-scheduler" in got
        # A scale-up after the kill completes: the new leader's controllers, scheduler and nodes carry on.
        second.kubectl("scale", "deployment", "web", "--replicas=5")
        wait_for("5 pods running", lambda: len(running_pods(second, "web")) == 5)
        nodes = second.kubectl("get", "nodes", "--no-headers").stdout
        assert nodes.count(" Ready ") == 2, nodes
    finally:
        second.stop()
        first.stop()
        etcd.stop()


def cubby(home, *args, check=True, timeout=120):
    env = dict(os.environ, CUBBY_HOME=str(home), KUBECONFIG=str(home / "kubeconfig"))
    r = subprocess.run([BIN, *args], capture_output=True, text=True, env=env, timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError(f"cubby {' '.join(args)} failed ({r.returncode}):\n{r.stderr}\n{r.stdout}")
    return r


def etcd_processes(home):
    out = subprocess.run(["pgrep", "-af", "etcd --name"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if str(home) in line]


def test_cubby_start_with_its_own_etcd_and_three_control_planes(tmp_path):
    home = tmp_path / "home"
    port = free_port_run(3)
    try:
        out = cubby(home, "start", "-p", "ha", "--port", str(port), "--store", "etcd", "--control-planes", "3", "--driver", "simulated").stdout
        assert "Starting etcd on https://127.0.0.1:" in out and "Starting control plane 3 of 3" in out
        assert len(etcd_processes(home)) == 1
        kubectl = lambda *a, check=True: subprocess.run(["kubectl", "--context", "ha", *a], capture_output=True, text=True, check=check,
                                                        env=dict(os.environ, KUBECONFIG=str(home / "kubeconfig")))
        kubectl("create", "configmap", "kept", "--from-literal=k=v")
        holders = wait_for("leases", lambda: [l for l in kubectl("get", "leases", "-n", "kube-system", "--no-headers").stdout.splitlines()
                                               if l.split()[0] in ("kube-controller-manager", "kube-scheduler")] or None)
        assert len(holders) == 2
        # Three API servers, one per control plane, all serving the same objects.
        ports = sorted({int(l.split("https://127.0.0.1:")[1].split()[0].rstrip(".")) for l in out.splitlines() if "control plane" in l})
        assert len(ports) == 3
        for p in ports:
            got = kubectl("--server", f"https://127.0.0.1:{p}", "get", "cm", "kept", "-o", "jsonpath={.data.k}").stdout
            assert got == "v"
        # Stop keeps every object and leaves no process; start again finds them.
        cubby(home, "stop", "-p", "ha")
        assert etcd_processes(home) == []
        cubby(home, "start", "-p", "ha")
        assert kubectl("get", "cm", "kept", "-o", "jsonpath={.data.k}").stdout == "v"
        # A profile's store does not change under it.
        refused = cubby(home, "start", "-p", "ha", "--store", "sqlite", check=False)
        assert refused.returncode != 0 and refused.stderr.count("\n") == 1 and "keeps its objects in etcd" in refused.stderr
    finally:
        cubby(home, "delete", "-p", "ha", check=False)
    assert etcd_processes(home) == []
    assert not (home / "profiles" / "ha").exists()
