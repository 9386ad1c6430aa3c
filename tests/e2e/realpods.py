"""What the suites that run real pods share: a cubby profile on the containerd driver, the test
images, and waits on conditions."""
import json
import os
import random
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import BIN, free_port, namespace_for

# A sandbox image whose registry is this machine's own loopback: the pull fails at once, without a
# packet leaving the machine, and Cubby makes its offline one.
SANDBOX = "localhost/cubby/pause:3.10"
BUSYBOX = "busybox:1.35"


class Profile:
    """A cubby profile with the containerd driver, in a CUBBY_HOME of the test's own."""

    def __init__(self, home, name):
        self.name = name
        self.home = Path(home)
        self.port = free_port()
        self.kubeconfig = self.home / "kubeconfig"
        self.env = dict(os.environ, CUBBY_HOME=str(self.home), KUBECONFIG=str(self.kubeconfig))

    @property
    def directory(self):
        return self.home / "profiles" / self.name

    @property
    def socket(self):
        return f"/run/cubby/{self.name}/containerd.sock"

    def cubby(self, *args, check=True, input=None, env=None):
        r = subprocess.run([BIN, *args, "-p", self.name], capture_output=True, text=True, input=input,
                           env=dict(self.env, **(env or {})), timeout=180)
        if check and r.returncode != 0:
            raise AssertionError(f"cubby {' '.join(args)} failed ({r.returncode}):\n{r.stderr}\n{r.stdout}")
        return r

    def start(self, *extra):
        return self.cubby("start", "--driver", "containerd", "--port", str(self.port), "--sandbox-image", SANDBOX, *extra)

    def kubectl(self, *args, check=True, input=None, timeout=120):
        r = subprocess.run(["kubectl", "--context", self.name, *args], capture_output=True, text=True, input=input,
                           env=self.env, timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({r.returncode}):\n{r.stderr}\n{r.stdout}")
        return r

    def get(self, *args):
        return json.loads(self.kubectl("get", *args, "-o", "json").stdout)

    def wait(self, *args, timeout=90):
        self.kubectl("wait", *args, f"--timeout={timeout}s", timeout=timeout + 30)

    def containers(self):
        """The ids of every container in the cluster's containerd (pods' and sandboxes')."""
        out = subprocess.run(["ctr", "--address", self.socket, "--namespace", "k8s.io", "containers", "ls", "-q"],
                             capture_output=True, text=True, timeout=30, check=True).stdout
        return set(out.split())


def eventually(check, timeout=90, interval=0.25, what="condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
        except (AssertionError, KeyError, IndexError, ValueError) as e:
            last = e
        time.sleep(interval)
    raise AssertionError(f"{what} not reached within {timeout}s (last: {last})")


def fetch(url, timeout=3):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


def make_profile(home, images, prefix, resolv_conf=None):
    """A started profile with the test images loaded. Its cluster DNS forwards names outside the
    cluster only to `resolv_conf`'s nameservers, by default to 127.0.0.1 where nothing answers, so
    no lookup a test makes leaves the machine."""
    p = Profile(home, f"{prefix}-{random.randrange(16 ** 4):04x}")
    if resolv_conf is None:
        resolv_conf = Path(home) / "resolv.conf"
        resolv_conf.parent.mkdir(parents=True, exist_ok=True)
        resolv_conf.write_text("nameserver 127.0.0.1\n")
    p.start("--resolv-conf", str(resolv_conf))
    p.cubby("image", "load", str(images / "busybox.tar"))
    return p


@pytest.fixture(scope="module")
def node(tmp_path_factory, images):
    p = None
    try:
        p = make_profile(tmp_path_factory.mktemp("home"), images, "e2e")
        yield p
    finally:
        if p is not None:
            p.cubby("delete", check=False)


@pytest.fixture
def ns(node, request):
    yield from namespace_for(node, request)


def pod_ip(node, ns, name):
    return node.get("pod", name, "-n", ns)["status"]["podIP"]


def terminated(node, ns, name, container=0):
    """The terminated state of a pod's container once the pod has ended."""
    node.wait("--for=jsonpath={.status.phase}=Succeeded", f"pod/{name}", "-n", ns)
    return node.get("pod", name, "-n", ns)["status"]["containerStatuses"][container]["state"]["terminated"]


def run_to_completion(node, ns, name, script, **container):
    """A pod that runs `script` once and reports what it printed in its termination message."""
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns},
           "spec": {"restartPolicy": "Never", "terminationGracePeriodSeconds": 1,
                    "containers": [{"name": "main", "image": BUSYBOX, "command": ["sh", "-c", f"({script}) > /dev/termination-log 2>&1"],
                                    **container}]}}
    node.kubectl("apply", "-f", "-", input=json.dumps(pod))
    return terminated(node, ns, name)["message"]
