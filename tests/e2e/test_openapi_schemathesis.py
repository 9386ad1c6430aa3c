"""schemathesis against the server's own OpenAPI v3: generated requests for every operation of the main
group-versions get no 5xx and no response its schema does not allow. A cluster of the test's own, since
the generated requests delete and replace whatever they find."""
import base64
import json
import os
import re
import ssl
import subprocess
import urllib.request

import yaml

# The group-versions most manifests use; each gets a share of the time budget.
GROUP_VERSIONS = ["api/v1", "apis/apps/v1", "apis/batch/v1", "apis/rbac.authorization.k8s.io/v1",
                  "apis/networking.k8s.io/v1", "apis/apiextensions.k8s.io/v1"]
SECONDS = int(os.environ.get("CUBBY_SCHEMATHESIS_SECONDS", "20"))

# Streams are not request/response exchanges a generator can check: watches (`watch`, `follow` and the
# /watch/ paths), and the upgrades of exec, attach, port-forward and proxy.
STREAMING_PARAMETERS = {"watch", "follow"}
STREAMING_PATHS = ("/watch/", "/exec", "/attach", "/portforward", "/proxy")


def fetch(cluster, path, cert):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.load_cert_chain(cert)
    with urllib.request.urlopen(f"https://127.0.0.1:{cluster.port}{path}", context=ctx, timeout=30) as r:
        return json.load(r)


def as_tested(doc):
    """The document without streams, and without `uniqueItems` on string parameters: upstream publishes it
    (and so does Cubby), it means nothing for a string, and it trips schemathesis' coverage phase."""
    doc["paths"] = {path: item for path, item in doc["paths"].items() if not any(s in path for s in STREAMING_PATHS)}
    for item in doc["paths"].values():
        if "parameters" in item:
            item["parameters"] = [p for p in item["parameters"] if p.get("name") not in STREAMING_PARAMETERS]
        for operation in item.values():
            if isinstance(operation, dict) and "parameters" in operation:
                operation["parameters"] = [p for p in operation["parameters"] if p.get("name") not in STREAMING_PARAMETERS]
    for item in doc["paths"].values():
        for parameters in [item.get("parameters", [])] + [o.get("parameters", []) for o in item.values() if isinstance(o, dict)]:
            for p in parameters:
                p.get("schema", {}).pop("uniqueItems", None)
    return doc


def only_generator_errors(output):
    """Whether a failed run's only trouble is schemathesis' own: its generator gives up on some schemas
    (hypothesis recursing through the CRD's JSONSchemaProps). No check failed and no request went wrong (a
    server that stops answering shows as Network Error)."""
    summary = output[output.rfind("SUMMARY"):]
    errors = re.findall(r"🚫 ([A-Za-z ]+ Error): \d+", summary)
    return "Failures:" not in summary and set(errors) == {"Runtime Error"}


# Upstream's own 500: its storage layer refuses a create whose body carries a resourceVersion (after
# validation), and the apiserver answers that error as an internal one. The stateful phase sends one back
# when it re-posts an object it was given; Cubby answers as upstream does.
UPSTREAM_500 = "resourceVersion should not be set on objects to be created"


def only_upstream_server_errors(output):
    """Whether a failed run's only failures are 500s upstream answers too (UPSTREAM_500), with no other
    check failed and no request gone wrong."""
    summary = output[output.rfind("SUMMARY"):]
    if "Failures:" not in summary or re.findall(r"🚫 ([A-Za-z ]+ Error): \d+", summary):
        return False
    failed = summary.split("Failures:", 1)[1].split("Test cases:", 1)[0]
    kinds = set(re.findall(r"❌ \S+ ([A-Za-z ]+): \d+", failed))
    bodies = re.findall(r"\[5\d\d\][^\n]*\n\s*\n\s*`([^`]*)`", output)
    return kinds == {"Server error"} and bodies and all(UPSTREAM_500 in b for b in bodies)


def test_generated_requests_get_no_server_error_and_responses_match_the_openapi(fresh_cluster, tmp_path):
    c = fresh_cluster()
    user = yaml.safe_load(open(c.kubeconfig))["users"][0]["user"]
    cert = tmp_path / "admin.pem"
    cert.write_bytes(base64.b64decode(user["client-certificate-data"]) + b"\n" + base64.b64decode(user["client-key-data"]))
    failures = []
    for gv in GROUP_VERSIONS:
        spec = tmp_path / (gv.replace("/", "_") + ".json")
        spec.write_text(json.dumps(as_tested(fetch(c, f"/openapi/v3/{gv}", cert))))
        r = subprocess.run(
            ["schemathesis", "run", str(spec), "--url", f"https://127.0.0.1:{c.port}", "--request-cert", str(cert),
             "--tls-verify", "false", "--checks", "not_a_server_error,response_schema_conformance",
             "--max-time", str(SECONDS), "--request-timeout", "10", "--seed", "1", "--workers", "2",
             "--suppress-health-check", "all", "--no-shrink", "--warnings", "off"],
            capture_output=True, text=True, timeout=SECONDS * 4 + 120, cwd=tmp_path)  # its cache goes to the cwd
        if r.returncode != 0 and not (only_generator_errors(r.stdout) or only_upstream_server_errors(r.stdout)):
            failures.append(f"--- {gv} (exit {r.returncode})\n{r.stdout[-6000:]}\n{r.stderr[-2000:]}")
    assert c.proc.poll() is None, "localkube died under generated requests"
    assert not failures, "\n".join(failures)
