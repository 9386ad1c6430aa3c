"""Admission webhook call overhead (issue 20): a cluster (release build, simulated nodes, a CUBBY_HOME of its own) and
the tests' webhook server (Python, HTTPS on loopback); the latency of creating a 1 KB configmap from one client on a
keep-alive connection, without a webhook, with a validating webhook that allows it, and with a mutating webhook that
adds a label by a JSON patch. p50 and p99 of each; the overhead is the difference of the p50s. The server's own time
(Python, a TLS handshake per call) is part of it, as it is of a real webhook's.

usage: python3 Benchmarks/webhook_bench.py [path/to/cubby]"""
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


def latencies(port, token, prefix):
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=unverified_tls(), timeout=60)
    out = []
    for i in range(CREATES):
        body = json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"{prefix}-{i}"}, "data": {"d": "x" * 1024}})
        started = time.perf_counter()
        conn.request("POST", "/api/v1/namespaces/bench/configmaps", body, {"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
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
