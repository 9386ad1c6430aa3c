"""Watching real pods as people do: `kubectl logs` with each of its flags against pods that print
numbered lines, checked against what they printed (following until the container ends, the previous
instance after a crash, logs of a deployment and a job, upstream's errors, rotation); `kubectl events`;
and `kubectl top` from the built-in resource metrics API."""
import json
import os
import re
import subprocess
import sys
import time
from datetime import datetime, timezone

import pytest

from conftest import namespace_for
from realpods import BUSYBOX, eventually
from realpods import node  # noqa: F401 (fixture)

pytestmark = pytest.mark.skipif(sys.platform != "linux" or os.geteuid() != 0, reason="real pods need Linux and root")

# Ten numbered lines, a pause, ten more, then it stays.
COUNT = "i=1; while [ $i -le 10 ]; do echo line $i; i=$((i+1)); done; sleep 3; " \
        "while [ $i -le 20 ]; do echo line $i; i=$((i+1)); done; exec sleep 3600"


@pytest.fixture
def ns(node, request):  # noqa: F811
    yield from namespace_for(node, request)


def pod(name, ns, *containers, restart="Always"):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns},
            "spec": {"restartPolicy": restart, "terminationGracePeriodSeconds": 1,
                     "containers": [{"name": c, "image": BUSYBOX, "command": ["sh", "-c", script]} for c, script in containers]}}


def apply(node, obj):
    node.kubectl("apply", "-f", "-", input=json.dumps(obj))


def logs(node, ns, *args, check=True):
    return node.kubectl("logs", "-n", ns, *args, check=check)


def numbered(a, b):
    return "".join(f"line {i}\n" for i in range(a, b + 1))


def test_logs_with_each_flag(node, ns):  # noqa: F811
    apply(node, pod("counter", ns, ("main", COUNT), ("side", "echo side 1; echo side 2; exec sleep 3600")))
    node.wait("--for=condition=Ready", "pod/counter", "-n", ns)
    eventually(lambda: logs(node, ns, "counter", "-c", "main").stdout == numbered(1, 20), timeout=30, what="twenty lines")

    assert logs(node, ns, "counter", "-c", "side").stdout == "side 1\nside 2\n"
    assert logs(node, ns, "counter", "-c", "main", "--tail=3").stdout == numbered(18, 20)
    assert logs(node, ns, "counter", "-c", "main", "--tail=0").stdout == ""
    assert logs(node, ns, "counter", "-c", "main", "--limit-bytes=15").stdout == "line 1\nline 2\nl"
    stamped = logs(node, ns, "counter", "-c", "main", "--timestamps", "--tail=2").stdout.splitlines()
    assert [l.split(" ", 1)[1] for l in stamped] == ["line 19", "line 20"]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z", l.split(" ", 1)[0]) for l in stamped)

    # The second ten came three seconds after the first: a time between them divides the log.
    first = logs(node, ns, "counter", "-c", "main", "--timestamps").stdout.splitlines()
    t10, t11 = (datetime.fromisoformat(first[i].split(" ")[0][:26] + "+00:00") for i in (9, 10))
    between = t10 + (t11 - t10) / 2
    since = between.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert logs(node, ns, "counter", "-c", "main", f"--since-time={since}").stdout == numbered(11, 20)
    age = (datetime.now(timezone.utc) - between).total_seconds()
    assert logs(node, ns, "counter", "-c", "main", f"--since={int(age) + 60}s").stdout == numbered(1, 20)

    # kubectl reads the containers one after another, in no fixed order (a Go map's): each one's lines in one block.
    everything = logs(node, ns, "counter", "--all-containers", "--prefix").stdout.splitlines()
    blocks = [[f"[pod/counter/main] line {i}" for i in range(1, 21)], ["[pod/counter/side] side 1", "[pod/counter/side] side 2"]]
    assert everything in (blocks[0] + blocks[1], blocks[1] + blocks[0])

    # Without -c, kubectl picks the first container (and says so); the API itself asks for one.
    defaulted = logs(node, ns, "counter")
    assert defaulted.stdout == numbered(1, 20) and 'Defaulted container "main" out of: main, side' in defaulted.stderr
    raw = node.kubectl("get", "--raw", f"/api/v1/namespaces/{ns}/pods/counter/log", check=False)
    assert raw.returncode != 0
    assert "a container name must be specified for pod counter, choose one of: [main side]" in raw.stderr
    wrong = logs(node, ns, "counter", "-c", "nope", check=False)
    assert wrong.returncode != 0 and "container nope is not valid for pod counter" in wrong.stderr
    assert "previous terminated container \"main\" in pod \"counter\" not found" in \
        logs(node, ns, "counter", "-c", "main", "--previous", check=False).stderr


def test_follow_ends_with_the_container_and_previous_shows_the_crashed_instance(node, ns):  # noqa: F811
    apply(node, pod("ticker", ns, ("main", "for i in 1 2 3 4 5 6; do echo tick $i; sleep 0.5; done"), restart="Never"))
    node.wait("--for=jsonpath={.status.phase}=Running", "pod/ticker", "-n", ns)
    started = time.monotonic()
    followed = logs(node, ns, "-f", "ticker")
    assert followed.stdout == "".join(f"tick {i}\n" for i in range(1, 7))
    assert time.monotonic() - started < 30

    # The first run fails; the second (counted on an emptyDir, which outlives the container) stays.
    crash = pod("crash", ns, ("main", "n=$(( $(cat /data/n 2>/dev/null || echo 0) + 1 )); echo $n > /data/n; echo run $n; "
                                      "[ $n -ge 2 ] && exec sleep 3600; exit 1"))
    crash["spec"]["volumes"] = [{"name": "data", "emptyDir": {}}]
    crash["spec"]["containers"][0]["volumeMounts"] = [{"name": "data", "mountPath": "/data"}]
    apply(node, crash)
    eventually(lambda: node.get("pod", "crash", "-n", ns)["status"]["containerStatuses"][0]["restartCount"] == 1, what="a restart")
    node.wait("--for=condition=Ready", "pod/crash", "-n", ns)
    assert logs(node, ns, "crash").stdout == "run 2\n"
    assert logs(node, ns, "crash", "--previous").stdout == "run 1\n"


def test_logs_of_workloads_and_of_a_pod_not_yet_running(node, ns):  # noqa: F811
    node.kubectl("create", "deployment", "web", "-n", ns, f"--image={BUSYBOX}", "--", "sh", "-c", "echo hello from $(hostname); exec sleep 3600")
    node.kubectl("rollout", "status", "deployment/web", "-n", ns, "--timeout=90s", timeout=120)
    name = node.get("pods", "-n", ns, "-l", "app=web")["items"][0]["metadata"]["name"]
    eventually(lambda: logs(node, ns, "deploy/web").stdout == f"hello from {name}\n", timeout=30, what="the deployment's log")
    node.kubectl("create", "job", "once", "-n", ns, f"--image={BUSYBOX}", "--", "sh", "-c", "echo done")
    node.wait("--for=condition=complete", "job/once", "-n", ns)
    assert logs(node, ns, "job/once").stdout == "done\n"

    apply(node, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "unpulled", "namespace": ns},
                 "spec": {"containers": [{"name": "main", "image": "localhost/cubby/missing:1"}]}})
    err = eventually(lambda: (r := logs(node, ns, "unpulled", check=False)).returncode != 0 and "waiting to start" in r.stderr and r.stderr,
                     timeout=60, what="an error for a pod not running")
    assert re.search(r'container "main" in pod "unpulled" is waiting to start: (ContainerCreating|image can\'t be pulled|trying and failing to pull image)', err)


def test_a_chatty_pod_has_its_log_rotated(node, ns):  # noqa: F811
    # ~3 MB of short lines (~16 MB of log with CRI's timestamps), then a line a second.
    apply(node, pod("chatty", ns, ("main", "yes 0123456789 | head -c 3000000; i=0; while true; do i=$((i+1)); echo after $i; sleep 1; done")))
    node.wait("--for=condition=Ready", "pod/chatty", "-n", ns)
    uid = node.get("pod", "chatty", "-n", ns)["metadata"]["uid"]
    folder = node.directory / "logs" / "pods" / f"{ns}_chatty_{uid}" / "main"

    def rotated():
        names = sorted(p.name for p in folder.iterdir())
        return names if len(names) == 2 and names[0] == "0.log" and re.fullmatch(r"0\.log\.\d{8}-\d{6}", names[1]) else None
    eventually(rotated, timeout=40, what="the log rotated once")
    assert (folder / "0.log").stat().st_size < 1 << 20
    # The log goes on in the new file.
    eventually(lambda: re.fullmatch(r"after \d+\n", logs(node, ns, "chatty", "--tail=1").stdout), timeout=20, what="lines after the rotation")


def test_kubectl_events_shows_what_the_kubelet_records(node, ns):  # noqa: F811
    watcher = subprocess.Popen(["kubectl", "--context", node.name, "get", "events", "-n", ns, "--watch"], env=node.env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        apply(node, pod("noted", ns, ("main", "exec sleep 3600")))
        node.wait("--for=condition=Ready", "pod/noted", "-n", ns)
        seen = []
        deadline = time.monotonic() + 30
        while not any("Started" in line and "pod/noted" in line for line in seen) and time.monotonic() < deadline:
            seen.append(watcher.stdout.readline())
        assert any(re.search(r"Normal\s+Started\s+pod/noted\s+Started container main", line) for line in seen), seen
    finally:
        watcher.kill()
        watcher.wait()
    table = node.kubectl("events", "-n", ns, "--for", "pod/noted").stdout
    assert re.search(r"^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE$", table, re.M)
    for reason, message in (("Scheduled", f"Successfully assigned {ns}/noted to {node.name}"), ("Created", "Created container: main"),
                            ("Started", "Started container main")):
        assert re.search(rf"Normal\s+{reason}\s+Pod/noted\s+{re.escape(message)}", table), table


def test_kubectl_top_shows_a_busy_pod_and_the_node(node, ns):  # noqa: F811
    apply(node, pod("busy", ns, ("spin", "while true; do :; done")))
    node.wait("--for=condition=Ready", "pod/busy", "-n", ns)

    def busy():
        out = node.kubectl("top", "pod", "-n", ns, check=False).stdout
        m = re.search(r"^busy\s+(\d+)m\s+(\d+)Mi\s*$", out, re.M)
        return m and int(m.group(1)) >= 200 and m
    eventually(busy, timeout=60, what="the busy pod's CPU in kubectl top")
    everywhere = node.kubectl("top", "pod", "-A").stdout
    assert re.search(rf"^{re.escape(ns)}\s+busy\s+\d+m\s+\d+Mi\s*$", everywhere, re.M), everywhere
    containers = node.kubectl("top", "pod", "busy", "-n", ns, "--containers").stdout
    assert re.search(r"^busy\s+spin\s+\d+m\s+\d+Mi\s*$", containers, re.M), containers
    table = node.kubectl("top", "node").stdout.splitlines()
    assert table[0].split() == ["NAME", "CPU(cores)", "CPU(%)", "MEMORY(bytes)", "MEMORY(%)"]
    name, cpu, cpu_pct, memory, memory_pct = table[1].split()
    assert name == node.name and int(cpu.rstrip("m")) >= 200 and int(memory.rstrip("Mi")) > 0 and memory_pct.endswith("%")
    services = node.kubectl("get", "apiservices", "v1beta1.metrics.k8s.io").stdout.splitlines()
    assert services[1].split()[:3] == ["v1beta1.metrics.k8s.io", "Local", "True"]
    node.kubectl("delete", "pod", "busy", "-n", ns, "--wait=false")
