"""Starts `cubby localkube` on a fresh data dir and hands tests a kubectl bound to it."""
import hashlib
import os
import re
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from ports import free_port, free_port_run  # noqa: F401 (the suites import them from here)

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("CUBBY_BIN", str(ROOT / ".build/debug/cubby"))
# `etcd`: every cluster of the suites keeps its objects in one etcd the session starts, each under
# a key prefix of its own (make e2e-test runs the API server suites so a second time).
STORE = os.environ.get("CUBBY_TEST_STORE", "sqlite")
_etcd = None


def session_etcd():
    global _etcd
    if _etcd is None:
        from etcd import EtcdCluster
        _etcd = EtcdCluster().start()
    return _etcd


def pytest_sessionfinish(session, exitstatus):
    if _etcd is not None:
        _etcd.stop()


sqlite_only = pytest.mark.skipif(STORE != "sqlite", reason="about SQLite's state.db")


def wait_for(what, check, timeout=30, interval=0.1):
    """Polls `check` until it returns something truthy, which is returned; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(interval)

class Cluster:
    def __init__(self, data_dir, port=None, extra=()):
        self.data_dir = Path(data_dir)
        self.port = port or free_port()
        # These suites exercise the control plane on simulated nodes; test_real_pods runs containers.
        self.extra = list(extra) if "--driver" in extra else ["--driver", "simulated", *extra]
        if STORE == "etcd" and "--store" not in self.extra:
            # A prefix of the data dir's own: a restart on the same dir finds its objects again.
            prefix = "/cubby-" + hashlib.sha256(str(self.data_dir.resolve()).encode()).hexdigest()[:12]
            self.extra += ["--store", "etcd", "--etcd-servers", session_etcd().servers, "--etcd-prefix", prefix]
        self.proc = None

    @property
    def kubeconfig(self):
        return str(self.data_dir / "kubeconfig")

    @property
    def log(self):
        return self.data_dir / "localkube.log"

    def start(self):
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log, "ab")
        self.proc = subprocess.Popen(
            [BIN, "localkube", "--data-dir", str(self.data_dir), "--port", str(self.port), *self.extra],
            stdout=log, stderr=subprocess.STDOUT)
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"localkube exited {self.proc.returncode}:\n{self.log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"https://127.0.0.1:{self.port}/readyz", context=ctx, timeout=1) as r:
                    if r.status == 200 and Path(self.kubeconfig).exists():
                        return self
            except OSError:
                pass
            time.sleep(0.05)
        # Not left running (and spinning) behind the failed test.
        self.stop(sig=signal.SIGKILL)
        raise RuntimeError("localkube did not become ready:\n" + self.log.read_text()[-3000:])

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def kubectl(self, *args, input=None, check=True, timeout=60):
        env = dict(os.environ, KUBECONFIG=self.kubeconfig)
        r = subprocess.run(["kubectl", *args], input=input, capture_output=True, text=True, env=env, timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({r.returncode}):\n{r.stderr}\n{r.stdout}")
        return r


@pytest.fixture(scope="session")
def cluster():
    with tempfile.TemporaryDirectory(prefix="cubby-e2e-") as d:
        c = Cluster(Path(d) / "data").start()
        yield c
        c.stop()


@pytest.fixture
def fresh_cluster(tmp_path):
    """A cluster of the test's own, for tests that restart or kill it."""
    clusters = []

    def make(**kw):
        c = Cluster(tmp_path / f"data{len(clusters)}", **kw).start()
        clusters.append(c)
        return c
    yield make
    for c in clusters:
        c.stop()


def namespace_for(cluster, request, prefix="t"):
    """A namespace named after the test, made in `cluster` and deleted (without waiting) afterwards."""
    name = f"{prefix}-" + re.sub("[^a-z0-9-]", "-", request.node.name.lower().replace("_", "-"))[:50].strip("-")
    cluster.kubectl("create", "-f", "-", input=f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n")
    yield name
    cluster.kubectl("delete", "namespace", name, "--wait=false", check=False)


@pytest.fixture
def ns(cluster, request):
    """A namespace of the test's own."""
    yield from namespace_for(cluster, request)


@pytest.fixture(scope="session")
def images(tmp_path_factory):
    """The test images (scripts/build-test-images.py), built once for every suite."""
    out = tmp_path_factory.mktemp("images")
    subprocess.run([sys.executable, str(ROOT / "scripts" / "build-test-images.py"), str(out)], check=True, timeout=120)
    return out


def daemonset_yaml(name, image="busybox"):
    """A DaemonSet of one container, labelled app=NAME."""
    return f"""apiVersion: apps/v1
kind: DaemonSet
metadata: {{name: {name}}}
spec:
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers: [{{name: c, image: {image}}}]
"""
