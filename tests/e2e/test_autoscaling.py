"""HorizontalPodAutoscalers as upstream's controller runs them, on simulated pods whose CPU use their annotation
sets (as kwok simulates usage): `kubectl autoscale`, scaling up while the pods are busy, TARGETS as kubectl shows
them, the ScalingLimited condition at maxReplicas, events, and scaling back down once the (shortened) stabilisation
window has passed. The controller evaluates every second here (--horizontal-pod-autoscaler-sync-period). Then the
same with real pods on the containerd driver."""
import json
import os
import re
import sys

import pytest

from conftest import wait_for
from realpods import BUSYBOX, eventually
from realpods import node, ns  # noqa: F401 (fixtures)

USAGE = "cubby.dev/simulated-usage-cpu"


@pytest.fixture(scope="module")
def fast(tmp_path_factory):
    from conftest import Cluster
    c = Cluster(tmp_path_factory.mktemp("hpa") / "data", extra=("--horizontal-pod-autoscaler-sync-period", "1")).start()
    yield c
    c.stop()


def deployment(name, usage):
    return json.dumps({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
                       "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                                "template": {"metadata": {"labels": {"app": name}, "annotations": {USAGE: usage}},
                                             "spec": {"containers": [{"name": "c", "image": "busybox",
                                                                      "resources": {"requests": {"cpu": "100m"}}}]}}}})


def hpa(c, name):
    return json.loads(c.kubectl("get", "hpa", name, "-o", "json").stdout)


def replicas(c, name):
    return json.loads(c.kubectl("get", "deployment", name, "-o", "json").stdout)["spec"]["replicas"]


def test_busy_deployment_scales_up_to_its_maximum_and_back_down(fast):
    fast.kubectl("create", "-f", "-", input=deployment("busy", "90m"))
    out = fast.kubectl("autoscale", "deployment", "busy", "--cpu=50%", "--min=1", "--max=3")
    assert out.stdout.strip() == "horizontalpodautoscaler.autoscaling/busy autoscaled"
    assert "Warning" not in out.stderr
    # 90% of the request against a 50% target: more pods, up to the maximum.
    wait_for("3 replicas", lambda: replicas(fast, "busy") == 3, timeout=60)
    status = wait_for("the status", lambda: (h := hpa(fast, "busy"))["status"].get("currentReplicas") == 3 and h["status"])
    conditions = {c["type"]: c for c in status["conditions"]}
    assert (conditions["ScalingActive"]["status"], conditions["ScalingActive"]["reason"]) == ("True", "ValidMetricFound")
    assert (conditions["ScalingLimited"]["status"], conditions["ScalingLimited"]["reason"]) == ("True", "TooManyReplicas")
    assert status["currentMetrics"][0]["resource"]["current"]["averageUtilization"] == 90
    row = fast.kubectl("get", "hpa", "busy").stdout.splitlines()
    assert row[0].split() == ["NAME", "REFERENCE", "TARGETS", "MINPODS", "MAXPODS", "REPLICAS", "AGE"]
    assert row[1].split()[:7] == ["busy", "Deployment/busy", "cpu:", "90%/50%", "1", "3", "3"]
    events = fast.kubectl("get", "events", "--field-selector", "involvedObject.kind=HorizontalPodAutoscaler", "-o", "json").stdout
    messages = [e["message"] for e in json.loads(events)["items"] if e["reason"] == "SuccessfulRescale"]
    assert "New size: 2; reason: cpu resource utilization (percentage of request) above target" in messages

    # The same object through autoscaling/v1: one CPU target, the current utilisation in status.
    v1 = json.loads(fast.kubectl("get", "horizontalpodautoscalers.v1.autoscaling", "busy", "-o", "json").stdout)
    assert v1["apiVersion"] == "autoscaling/v1"
    assert (v1["spec"]["targetCPUUtilizationPercentage"], v1["spec"]["minReplicas"], v1["spec"]["maxReplicas"]) == (50, 1, 3)
    assert (v1["status"]["currentReplicas"], v1["status"]["currentCPUUtilizationPercentage"]) == (3, 90)
    assert "metrics" not in v1["spec"]

    # Idle now; the scale-down waits out its stabilisation window (5 s here, 300 s by default).
    fast.kubectl("patch", "hpa", "busy", "--type=merge", "-p", '{"spec":{"behavior":{"scaleDown":{"stabilizationWindowSeconds":5}}}}')
    behavior = hpa(fast, "busy")["spec"]["behavior"]
    assert behavior["scaleUp"]["policies"] == [{"type": "Pods", "value": 4, "periodSeconds": 15},
                                               {"type": "Percent", "value": 100, "periodSeconds": 15}]
    fast.kubectl("patch", "deployment", "busy", "--type=merge", "-p", json.dumps({"spec": {"template": {"metadata": {"annotations": {USAGE: "5m"}}}}}))
    wait_for("1 replica", lambda: replicas(fast, "busy") == 1, timeout=90)
    messages = [e["message"] for e in json.loads(fast.kubectl("get", "events", "-o", "json").stdout)["items"] if e["reason"] == "SuccessfulRescale"]
    assert "New size: 1; reason: All metrics below target" in messages
    fast.kubectl("delete", "hpa", "busy")
    fast.kubectl("delete", "deployment", "busy")


def test_a_target_without_requests_is_reported_not_scaled(fast):
    fast.kubectl("create", "deployment", "norequests", "--image=busybox")
    fast.kubectl("autoscale", "deployment", "norequests", "--cpu=50%", "--max=3")

    def failed():
        conditions = {c["type"]: c for c in hpa(fast, "norequests").get("status", {}).get("conditions", [])}
        return conditions.get("ScalingActive", {}).get("reason") == "FailedGetResourceMetric" and conditions["ScalingActive"]
    active = wait_for("ScalingActive False", failed, timeout=30)
    assert active["status"] == "False"
    assert "missing request for cpu in container busybox of Pod norequests-" in active["message"]
    assert fast.kubectl("get", "hpa", "norequests").stdout.splitlines()[1].split()[2:4] == ["cpu:", "<unknown>/50%"]
    assert replicas(fast, "norequests") == 1
    fast.kubectl("delete", "hpa", "norequests")
    fast.kubectl("delete", "deployment", "norequests")


def test_invalid_autoscalers_are_refused(fast):
    r = fast.kubectl("create", "-f", "-", check=False, input=json.dumps({
        "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "bad"},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "x"}, "minReplicas": 5, "maxReplicas": 2}}))
    assert r.returncode != 0
    assert "spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`" in r.stderr


@pytest.mark.skipif(sys.platform != "linux" or os.geteuid() != 0, reason="real pods need Linux and root")
def test_real_busy_pods_scale_up_and_back_down(node, ns):  # noqa: F811
    """With the containerd driver: each pod spins for its first 30 s, then sleeps. The deployment grows while they
    spin and shrinks after the stabilisation window once they are idle (every 15 s, the default sync period)."""
    spin = "end=$(( $(date +%s) + 30 )); while [ $(date +%s) -lt $end ]; do :; done; exec sleep 3600"
    node.kubectl("create", "-n", ns, "-f", "-", input=json.dumps({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "spinner"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "spinner"}},
                 "template": {"metadata": {"labels": {"app": "spinner"}},
                              "spec": {"terminationGracePeriodSeconds": 1,
                                       "containers": [{"name": "spin", "image": BUSYBOX, "command": ["sh", "-c", spin],
                                                       "resources": {"requests": {"cpu": "100m"}}}]}}}}))
    node.kubectl("create", "-n", ns, "-f", "-", input=json.dumps({
        "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "spinner"},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "spinner"}, "minReplicas": 1, "maxReplicas": 3,
                 "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}}],
                 "behavior": {"scaleDown": {"stabilizationWindowSeconds": 5}}}}))
    count = lambda: node.get("deployment", "spinner", "-n", ns)["spec"]["replicas"]
    eventually(lambda: count() > 1, timeout=90, what="a scale-up")
    targets = node.kubectl("get", "hpa", "spinner", "-n", ns).stdout.splitlines()[1].split()
    assert targets[2] == "cpu:" and re.fullmatch(r"\d+%/50%", targets[3]), targets
    eventually(lambda: count() == 1, timeout=150, what="the scale back down")
    node.kubectl("delete", "hpa,deployment", "spinner", "-n", ns)


def test_an_autoscaler_written_through_v1_reads_as_v2(fast):
    fast.kubectl("create", "-f", "-", input=json.dumps({
        "apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "old"},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "old"}, "maxReplicas": 4,
                 "targetCPUUtilizationPercentage": 70}}))
    v2 = hpa(fast, "old")
    assert v2["apiVersion"] == "autoscaling/v2" and v2["spec"]["minReplicas"] == 1
    assert v2["spec"]["metrics"] == [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}]
    fast.kubectl("delete", "hpa", "old")
