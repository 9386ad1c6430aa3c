"""Who may talk to localkube: the admin's client certificate, the admin token, nobody anonymous."""
import json
import ssl
import urllib.error
import urllib.request

import yaml


def fetch(cluster, path, cert=None, token=None):
    ctx = ssl.create_default_context(cafile=str(cluster.data_dir / "pki" / "ca.crt"))
    ctx.check_hostname = False
    if cert:
        ctx.load_cert_chain(*cert)
    req = urllib.request.Request(f"https://127.0.0.1:{cluster.port}{path}")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
            return r.status, json.loads(r.read() or b"null") if path != "/healthz" else None
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_client_certificate_token_and_anonymous(cluster):
    pki = cluster.data_dir / "pki"
    user = yaml.safe_load(open(cluster.kubeconfig))["users"][0]["user"]
    assert "client-certificate-data" in user and "token" not in user, "kubectl uses the admin's client certificate"
    assert cluster.kubectl("get", "ns", "default", "-o", "name").stdout.strip() == "namespace/default"

    status, body = fetch(cluster, "/api/v1/namespaces")
    assert status == 401 and body["reason"] == "Unauthorized" and body["message"] == "Unauthorized"
    assert fetch(cluster, "/healthz")[0] == 200 and fetch(cluster, "/version")[0] == 200

    status, body = fetch(cluster, "/api/v1/namespaces/default", cert=(pki / "admin.crt", pki / "admin.key"))
    assert status == 200 and body["metadata"]["name"] == "default"
    token = (cluster.data_dir / "token").read_text().strip()
    assert fetch(cluster, "/api/v1/namespaces/default", token=token)[0] == 200
    assert fetch(cluster, "/api/v1/namespaces/default", token="wrong")[0] == 401
