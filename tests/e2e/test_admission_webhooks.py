"""Admission webhooks as upstream calls them: a webhook server of the tests' own (HTTPS, a CA it makes)
registered by ValidatingWebhookConfiguration and MutatingWebhookConfiguration; refusals with the webhook's
message, patches applied, failurePolicy, timeouts, and the selectors that decide what is sent."""
import json
import shutil
import time

import pytest

from conftest import free_port, wait_for
from webhook_server import DENY_MESSAGE, WARNING, WebhookServer

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = WebhookServer(tmp_path_factory.mktemp("webhook"))
    yield s
    s.close()


def configuration(kind, name, hooks):
    return json.dumps({"apiVersion": "admissionregistration.k8s.io/v1", "kind": kind, "metadata": {"name": name}, "webhooks": hooks})


def hook(name, url, ca, resources=("configmaps",), operations=("CREATE", "UPDATE"), **extra):
    h = {"name": name, "clientConfig": {"url": url, "caBundle": ca}, "sideEffects": "None", "admissionReviewVersions": ["v1"],
         "rules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": list(operations), "resources": list(resources)}]}
    h.update(extra)
    return h


class Registered:
    """A webhook configuration for the length of a `with`, deleted after (also when the test fails)."""
    def __init__(self, cluster, kind, name, hooks):
        self.cluster, self.kind, self.name = cluster, kind, name
        cluster.kubectl("create", "-f", "-", input=configuration(kind, name, hooks))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cluster.kubectl("delete", self.kind.lower(), self.name, "--ignore-not-found")


def configmap(name, labels=None):
    return json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": labels or {}}})


def selecting(ns):
    """A namespaceSelector that picks the test's namespace alone (the cluster is shared)."""
    return {"matchLabels": {"kubernetes.io/metadata.name": ns}}


def test_validating_webhook_refuses_a_labelled_object_with_its_message(cluster, ns, server):
    with Registered(cluster, "ValidatingWebhookConfiguration", f"deny-{ns}",
                    [hook("deny.cubby.test", server.url("/deny"), server.ca_bundle, namespaceSelector=selecting(ns))]):
        # Upstream's defaults are filled in.
        stored = json.loads(cluster.kubectl("get", "validatingwebhookconfiguration", f"deny-{ns}", "-o", "json").stdout)["webhooks"][0]
        assert (stored["failurePolicy"], stored["matchPolicy"], stored["timeoutSeconds"], stored["objectSelector"]) == ("Fail", "Equivalent", 10, {})
        assert stored["rules"][0]["scope"] == "*"

        def refused():
            r = cluster.kubectl("create", "-n", ns, "-f", "-", input=configmap("labelled", {"deny": "yes"}), check=False)
            return r.returncode != 0 and r
        r = wait_for("the webhook to refuse", refused)
        assert f'admission webhook "deny.cubby.test" denied the request: {DENY_MESSAGE}' in r.stderr
        assert "Error from server (Forbidden)" in r.stderr
        # Allowed objects pass, with the webhook's warning shown as kubectl shows warnings.
        ok = cluster.kubectl("create", "-n", ns, "-f", "-", input=configmap("plain"))
        assert f"Warning: {WARNING}" in ok.stderr
        # What the webhook was sent: an AdmissionReview v1 request as upstream fills it.
        path, request = [(p, r) for p, r in server.reviews if r.get("name") == "plain"][-1]
        assert path == "/deny?timeout=10s"
        assert request["kind"] == {"group": "", "version": "v1", "kind": "ConfigMap"}
        assert request["resource"] == {"group": "", "version": "v1", "resource": "configmaps"}
        assert (request["operation"], request["namespace"], request["dryRun"]) == ("CREATE", ns, False)
        assert request["userInfo"]["username"] == "kubernetes-admin" and "system:masters" in request["userInfo"]["groups"]
        assert request["object"]["metadata"]["name"] == "plain" and request.get("oldObject") is None
        assert request["options"]["kind"] == "CreateOptions"
        # An update sees both objects; one that adds the label is refused too.
        r = cluster.kubectl("label", "-n", ns, "configmap", "plain", "deny=yes", check=False)
        assert r.returncode != 0 and DENY_MESSAGE in r.stderr
        update = [r for _, r in server.reviews if r.get("name") == "plain" and r["operation"] == "UPDATE"][-1]
        assert update["oldObject"]["metadata"]["name"] == "plain" and update["object"]["metadata"]["labels"]["deny"] == "yes"
        # Objects of other namespaces are not sent (namespaceSelector).
        cluster.kubectl("create", "-n", "default", "-f", "-", input=configmap(f"elsewhere-{ns}", {"deny": "yes"}))
        cluster.kubectl("delete", "-n", "default", "configmap", f"elsewhere-{ns}")
    # Gone with its configuration.
    wait_for("the webhook to go", lambda: cluster.kubectl("create", "-n", ns, "-f", "-", input=configmap("later", {"deny": "yes"}),
                                                          check=False).returncode == 0)


def test_object_selector_decides_what_is_sent(cluster, ns, server):
    with Registered(cluster, "ValidatingWebhookConfiguration", f"selective-{ns}",
                    [hook("selective.cubby.test", server.url("/deny"), server.ca_bundle, namespaceSelector=selecting(ns),
                          objectSelector={"matchLabels": {"checked": "yes"}})]):
        wait_for("the webhook to refuse", lambda: cluster.kubectl(
            "create", "-n", ns, "-f", "-", input=configmap("checked", {"checked": "yes", "deny": "yes"}), check=False).returncode != 0)
        before = len(server.reviews)
        cluster.kubectl("create", "-n", ns, "-f", "-", input=configmap("unchecked", {"deny": "yes"}))
        assert len(server.reviews) == before, "an object the objectSelector leaves out was sent"


def test_mutating_webhook_adds_a_label_to_pods(cluster, ns, server):
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}}
    with Registered(cluster, "MutatingWebhookConfiguration", f"label-{ns}",
                    [hook("label.cubby.test", server.url("/label"), server.ca_bundle, resources=("pods",), operations=("CREATE",),
                          namespaceSelector=selecting(ns))]):
        stored = json.loads(cluster.kubectl("get", "mutatingwebhookconfiguration", f"label-{ns}", "-o", "json").stdout)["webhooks"][0]
        assert stored["reinvocationPolicy"] == "Never"

        def labelled(name):
            pod["metadata"]["name"] = name
            cluster.kubectl("create", "-n", ns, "-f", "-", input=json.dumps(pod))
            return json.loads(cluster.kubectl("get", "pod", name, "-n", ns, "-o", "json").stdout)["metadata"].get("labels", {})
        attempt = iter(range(100))
        labels = wait_for("the label", lambda: labelled(f"p{next(attempt)}").get("mutated-by"))
        assert labels == "webhook"
        # Configmaps are not in its rules.
        cluster.kubectl("create", "-n", ns, "-f", "-", input=configmap("untouched"))
        assert "mutated-by" not in json.loads(cluster.kubectl("get", "cm", "untouched", "-n", ns, "-o", "json").stdout)["metadata"]["labels"]


def test_failure_policy_decides_when_the_webhook_is_down(cluster, ns, server):
    down = f"https://127.0.0.1:{free_port()}/deny"
    with Registered(cluster, "ValidatingWebhookConfiguration", f"down-fail-{ns}",
                    [hook("down.cubby.test", down, server.ca_bundle, namespaceSelector=selecting(ns),
                          objectSelector={"matchLabels": {"policy": "fail"}})]):
        def failed():
            r = cluster.kubectl("create", "-n", ns, "-f", "-", input=configmap("fail", {"policy": "fail"}), check=False)
            return r.returncode != 0 and r
        r = wait_for("the call to fail", failed)
        assert 'Internal error occurred: failed calling webhook "down.cubby.test": failed to call webhook: Post' in r.stderr
        assert "connect: connection refused" in r.stderr
    with Registered(cluster, "ValidatingWebhookConfiguration", f"down-ignore-{ns}",
                    [hook("down.cubby.test", down, server.ca_bundle, namespaceSelector=selecting(ns), failurePolicy="Ignore",
                          objectSelector={"matchLabels": {"policy": "ignore"}})]):
        cluster.kubectl("create", "-n", ns, "-f", "-", input=configmap("ignore", {"policy": "ignore"}))


def test_timeout_is_honoured(cluster, ns, server):
    with Registered(cluster, "ValidatingWebhookConfiguration", f"slow-{ns}",
                    [hook("slow.cubby.test", server.url("/slow"), server.ca_bundle, namespaceSelector=selecting(ns), timeoutSeconds=1,
                          objectSelector={"matchLabels": {"slow": "yes"}})]):
        def timed_out():
            started = time.monotonic()
            r = cluster.kubectl("create", "-n", ns, "-f", "-", input=configmap("slow", {"slow": "yes"}), check=False)
            return r.returncode != 0 and (r, time.monotonic() - started)
        r, took = wait_for("the call to time out", timed_out)
        assert 'failed calling webhook "slow.cubby.test": failed to call webhook: Post "' in r.stderr
        assert "/slow?timeout=1s\": context deadline exceeded" in r.stderr
        assert took < 8, f"the 1 s timeout took {took:.1f} s (the webhook answers after 10 s)"


def test_bad_configurations_are_refused_with_upstreams_errors(cluster, server):
    bad = hook("short", "http://example.com/x?q=1", server.ca_bundle, timeoutSeconds=60)
    del bad["sideEffects"]
    r = cluster.kubectl("create", "-f", "-", input=configuration("ValidatingWebhookConfiguration", "bad", [bad]), check=False)
    assert r.returncode != 0
    for message in ['webhooks[0].name: Invalid value: "short": should be a domain with at least three segments separated by dots',
                    "webhooks[0].sideEffects: Required value: must specify one of None, NoneOnDryRun",
                    "webhooks[0].timeoutSeconds: Invalid value: 60: the timeout value must be between 1 and 30 seconds",
                    "webhooks[0].clientConfig.url: Invalid value: \"http\": 'https' is the only allowed URL scheme; desired format: https://host[/path]",
                    'webhooks[0].clientConfig.url: Invalid value: "q=1": query parameters are not permitted in the URL']:
        assert message in r.stderr, r.stderr


def test_match_conditions_decide_in_cel_what_is_sent(cluster, ns, server):
    conditions = [{"name": "not-exempt", "expression": "object.metadata.name != 'exempt'"},
                  {"name": "creates", "expression": "request.operation == 'CREATE'"}]
    with Registered(cluster, "ValidatingWebhookConfiguration", f"conditions-{ns}",
                    [hook("conditions.cubby.test", server.url("/deny"), server.ca_bundle, namespaceSelector=selecting(ns),
                          matchConditions=conditions)]):
        wait_for("the webhook to refuse", lambda: cluster.kubectl(
            "create", "-n", ns, "-f", "-", input=configmap("refused", {"deny": "yes"}), check=False).returncode != 0)
        # The condition leaves this one out: the webhook never sees it.
        cluster.kubectl("create", "-n", ns, "-f", "-", input=configmap("exempt", {"deny": "yes"}))
        assert "exempt" not in [r.get("name") for _, r in server.reviews]
    bad = hook("badcondition.cubby.test", server.url("/deny"), server.ca_bundle, matchConditions=[{"name": "x", "expression": "object.nope("}])
    r = cluster.kubectl("create", "-f", "-", input=configuration("ValidatingWebhookConfiguration", "badcondition", [bad]), check=False)
    assert r.returncode != 0 and "webhooks[0].matchConditions[0].expression: Invalid value" in r.stderr and "compilation failed" in r.stderr


def hpa(name, api_version, labels=None):
    spec = {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}, "minReplicas": 1, "maxReplicas": 3}
    if api_version == "autoscaling/v1":
        spec["targetCPUUtilizationPercentage"] = 50
    return json.dumps({"apiVersion": api_version, "kind": "HorizontalPodAutoscaler",
                       "metadata": {"name": name, "labels": labels or {}}, "spec": spec})


def test_match_policy_equivalent_sends_the_version_the_rules_name(cluster, ns, server):
    v2 = [{"apiGroups": ["autoscaling"], "apiVersions": ["v2"], "operations": ["CREATE"], "resources": ["horizontalpodautoscalers"]}]
    with Registered(cluster, "MutatingWebhookConfiguration", f"equivalent-{ns}",
                    [hook("equivalent.cubby.test", server.url("/label"), server.ca_bundle, namespaceSelector=selecting(ns), rules=v2)]), \
         Registered(cluster, "ValidatingWebhookConfiguration", f"exact-{ns}",
                    [hook("exact.cubby.test", server.url("/deny"), server.ca_bundle, namespaceSelector=selecting(ns), rules=v2,
                          matchPolicy="Exact")]):
        wait_for("the webhook to refuse a v2 object", lambda: cluster.kubectl(
            "create", "-n", ns, "-f", "-", input=hpa("refused", "autoscaling/v2", {"deny": "yes"}), check=False).returncode != 0)
        # Made through autoscaling/v1: the mutating webhook (Equivalent, the default) is sent it as v2 and its
        # label lands; the validating one (Exact) is not sent it at all.
        cluster.kubectl("create", "-n", ns, "-f", "-", input=hpa("through-v1", "autoscaling/v1", {"deny": "yes"}))
        got = json.loads(cluster.kubectl("get", "horizontalpodautoscalers.v1.autoscaling", "through-v1", "-n", ns, "-o", "json").stdout)
        assert got["metadata"]["labels"]["mutated-by"] == "webhook"
        assert got["spec"]["targetCPUUtilizationPercentage"] == 50
        sent = [(p.split("?")[0], r) for p, r in server.reviews if r.get("name") == "through-v1"]
        assert [p for p, _ in sent] == ["/label"]
        review = sent[0][1]
        assert review["kind"] == {"group": "autoscaling", "version": "v2", "kind": "HorizontalPodAutoscaler"}
        assert review["requestKind"] == {"group": "autoscaling", "version": "v1", "kind": "HorizontalPodAutoscaler"}
        assert review["resource"]["version"] == "v2" and review["requestResource"]["version"] == "v1"
        assert review["object"]["apiVersion"] == "autoscaling/v2"
        assert review["object"]["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 50
