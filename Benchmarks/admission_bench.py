"""Extensible admission's cost (issue 20), in one cluster (release build, simulated nodes, a CUBBY_HOME of its own), each
the create latency from one client on a keep-alive connection, p50 and p99 of 1,000 creates:
- CEL validation rules: a custom resource of a CRD with 20 x-kubernetes-validations rules against the same CRD without
  them (target: p50 within 2x);
- admission webhooks: a 1 KB configmap without a webhook, with a validating webhook that allows it and with a mutating
  webhook that adds a label by a JSON patch (the tests' webhook server: Python, HTTPS on loopback, a TLS handshake per
  call, all part of the overhead as a real webhook's would be).

usage: python3 Benchmarks/admission_bench.py [path/to/cubby]"""
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchkit import ROOT, release_binary, unverified_tls

sys.path.insert(0, str(ROOT / "tests" / "e2e"))
from webhook_server import WebhookServer  # noqa: E402

BIN = release_binary(1, "cubby")
CREATES = 1000


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def configmap(name):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"d": "x" * 1024}}


def widget(kind):
    def make(name):
        return {"apiVersion": "bench.cubby.test/v1", "kind": kind, "metadata": {"name": name},
                "spec": {f"f{i}": i for i in range(20)} | {"name": "widget", "tags": ["a", "b", "c"]}}
    return make


def crd(kind, rules):
    properties = {f"f{i}": {"type": "integer"} for i in range(20)} | {"name": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}}}
    spec = {"type": "object", "properties": properties}
    if rules:
        # 20 rules of the kinds CRDs carry: comparisons, string checks, a macro over a list.
        spec["x-kubernetes-validations"] = ([{"rule": f"self.f{i} <= self.f{i + 1}"} for i in range(17)]
                                            + [{"rule": "self.name.startsWith('w') && size(self.name) < 64"},
                                               {"rule": "self.tags.all(t, t.size() < 10)"},
                                               {"rule": "self.name.matches('^[a-z]+$')"}])
    plural = kind.lower() + "s"
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": f"{plural}.bench.cubby.test"},
            "spec": {"group": "bench.cubby.test", "scope": "Namespaced", "names": {"plural": plural, "kind": kind},
                     "versions": [{"name": "v1", "served": True, "storage": True,
                                   "schema": {"openAPIV3Schema": {"type": "object", "properties": {"spec": spec}}}}]}}


def latencies(port, token, prefix, path="/api/v1/namespaces/bench/configmaps", make=configmap):
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=unverified_tls(), timeout=60)
    out = []
    for i in range(CREATES):
        body = json.dumps(make(f"{prefix}-{i}"))
        started = time.perf_counter()
        conn.request("POST", path, body, {"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        r = conn.getresponse()
        r.read()
        out.append(time.perf_counter() - started)
        assert r.status == 201, r.status
    conn.close()
    return out


def register(env, kind, name, path, server):
    hook = {"name": f"{name}.bench.cubby", "clientConfig": {"url": server.url(path), "caBundle": server.ca_bundle},
            "sideEffects": "None", "admissionReviewVersions": ["v1"], "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "bench"}},
            "rules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["configmaps"]}]}
    config = {"apiVersion": "admissionregistration.k8s.io/v1", "kind": kind, "metadata": {"name": name}, "webhooks": [hook]}
    subprocess.run(["kubectl", "create", "-f", "-"], input=json.dumps(config), text=True, check=True, capture_output=True, env=env)
    time.sleep(1)  # the configuration reaches the admission chain through a watch


def main():
    home = Path(tempfile.mkdtemp(prefix="cubby-webhook-bench-"))
    env = dict(os.environ, CUBBY_HOME=str(home / "home"), KUBECONFIG=str(home / "kubeconfig"))
    port = free_port()
    server = WebhookServer(home)
    try:
        subprocess.run([BIN, "start", "--driver", "simulated", "--port", str(port)], check=True, capture_output=True, env=env, timeout=600)
        token = (home / "home" / "profiles" / "cubby" / "token").read_text().strip()
        subprocess.run(["kubectl", "create", "namespace", "bench"], check=True, capture_output=True, env=env)
        for kind, rules in (("Plain", False), ("Ruled", True)):
            subprocess.run(["kubectl", "apply", "-f", "-"], input=json.dumps(crd(kind, rules)), text=True, check=True, capture_output=True, env=env)
            subprocess.run(["kubectl", "wait", "--for=condition=Established", f"crd/{kind.lower()}s.bench.cubby.test"], check=True, capture_output=True, env=env)
        time.sleep(1)
        crds = {}
        for kind in ("Plain", "Ruled"):
            path = f"/apis/bench.cubby.test/v1/namespaces/bench/{kind.lower()}s"
            latencies(port, token, "warm", path, widget(kind))
            crds[kind] = latencies(port, token, "w", path, widget(kind))
        plain, ruled = statistics.median(crds["Plain"]), statistics.median(crds["Ruled"])
        print(f"create latency of a custom resource, one client, {CREATES} creates each (release, loopback):")
        for name, values in (("no rules", crds["Plain"]), ("20 CEL rules", crds["Ruled"])):
            print(f"  {name:20s} p50 {statistics.median(values) * 1000:6.2f} ms  p99 {statistics.quantiles(values, n=100)[98] * 1000:6.2f} ms")
        print(f"  20 rules cost {(ruled - plain) * 1000:.3f} ms a create at p50: {ruled / plain:.2f}x (target <= 2x)", flush=True)

        latencies(port, token, "warm")
        runs = {"no webhook": latencies(port, token, "plain")}
        register(env, "ValidatingWebhookConfiguration", "allow", "/allow", server)
        runs["validating webhook"] = latencies(port, token, "validated")
        assert len(server.reviews) >= CREATES
        subprocess.run(["kubectl", "delete", "validatingwebhookconfiguration", "allow"], check=True, capture_output=True, env=env)
        register(env, "MutatingWebhookConfiguration", "label", "/label", server)
        runs["mutating webhook"] = latencies(port, token, "mutated")
        labels = json.loads(subprocess.run(["kubectl", "get", "cm", "mutated-0", "-n", "bench", "-o", "json"], check=True,
                                           capture_output=True, text=True, env=env).stdout)["metadata"]["labels"]
        assert labels.get("mutated-by") == "webhook"

        base = statistics.median(runs["no webhook"])
        print(f"create latency of a 1 KB configmap, one client, {CREATES} creates each (release, loopback):")
        for name, values in runs.items():
            q = statistics.quantiles(values, n=100)
            p50 = statistics.median(values)
            extra = "" if name == "no webhook" else f"  overhead p50 {(p50 - base) * 1000:.2f} ms"
            print(f"  {name:20s} p50 {p50 * 1000:6.2f} ms  p99 {q[98] * 1000:6.2f} ms{extra}", flush=True)
    finally:
        subprocess.run([BIN, "delete", "--all"], capture_output=True, env=env)
        server.close()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
