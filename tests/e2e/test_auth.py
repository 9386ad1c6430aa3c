"""Who may talk to localkube: the admin's client certificate, tokens, passwords, service accounts; anonymous requests as
upstream's default (health and version only), presented credentials that fail refused everywhere; service-account
issuer discovery."""
import base64
import json
import time
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
            body = r.read()
            return r.status, json.loads(body) if body.startswith(b"{") else body.decode()
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_client_certificate_token_and_anonymous(cluster):
    pki = cluster.data_dir / "pki"
    user = yaml.safe_load(open(cluster.kubeconfig))["users"][0]["user"]
    assert "client-certificate-data" in user and "token" not in user, "kubectl uses the admin's client certificate"
    assert cluster.kubectl("get", "ns", "default", "-o", "name").stdout.strip() == "namespace/default"

    # No credentials: system:anonymous, which RBAC lets read health and version only, as upstream's default.
    status, body = fetch(cluster, "/api/v1/namespaces")
    assert status == 403 and body["reason"] == "Forbidden"
    assert body["message"] == ('namespaces is forbidden: User "system:anonymous" cannot list resource "namespaces" '
                               'in API group "" at the cluster scope')
    for path in ("/healthz", "/livez", "/readyz", "/version"):
        assert fetch(cluster, path)[0] == 200, path
    # Credentials that fail are 401 on every path, health and version too.
    for path in ("/healthz", "/livez", "/readyz", "/version", "/api", "/openid/v1/jwks", "/.well-known/openid-configuration"):
        status, body = fetch(cluster, path, token="wrong")
        assert (status, body["reason"], body["message"]) == (401, "Unauthorized", "Unauthorized"), path

    status, body = fetch(cluster, "/api/v1/namespaces/default", cert=(pki / "admin.crt", pki / "admin.key"))
    assert status == 200 and body["metadata"]["name"] == "default"
    token = (cluster.data_dir / "token").read_text().strip()
    assert fetch(cluster, "/api/v1/namespaces/default", token=token)[0] == 200
    assert fetch(cluster, "/api/v1/namespaces/default", token="wrong")[0] == 401


def test_basic_auth_and_static_tokens(tmp_path):
    """Passwords from basic-auth.csv (the generated admin one, and lines a person added) and
    bearer tokens from tokens.csv, as kubectl sends them."""
    from conftest import Cluster
    data = tmp_path / "data"
    data.mkdir()
    (data / "tokens.csv").write_text('jane-token,jane,1001,"devs,qa"\n')
    c = Cluster(data).start()
    try:
        admin_line = (data / "basic-auth.csv").read_text().splitlines()[0]
        password, user, _, groups = admin_line.split(",", 3)
        assert user == "admin" and groups == '"system:masters"' and len(password) >= 20
        assert (data / "basic-auth.csv").stat().st_mode & 0o777 == 0o600

        r = c.kubectl("--username", "admin", "--password", password, "get", "ns", "default", "-o", "name")
        assert r.stdout.strip() == "namespace/default"
        r = c.kubectl("--username", "admin", "--password", "wrong", "get", "ns", check=False)
        assert r.returncode == 1 and r.stderr.strip() == "error: You must be logged in to the server (Unauthorized)"

        c.kubectl("config", "set-credentials", "basic", "--username=admin", f"--password={password}")
        c.kubectl("config", "set-context", "basic", "--cluster=cubby", "--user=basic")
        who = json.loads(c.kubectl("--context", "basic", "auth", "whoami", "-o", "json").stdout)
        assert who["kind"] == "SelfSubjectReview"
        assert who["status"]["userInfo"]["username"] == "admin"
        assert who["status"]["userInfo"]["groups"] == ["system:masters", "system:authenticated"]

        who = c.kubectl("--token", "jane-token", "auth", "whoami").stdout.split("\n")
        assert who[1].split() == ["Username", "jane"] and who[3].split() == ["Groups", "[devs", "qa", "system:authenticated]"]
        r = c.kubectl("--token", "jane-token", "get", "pods", check=False)
        assert r.returncode == 1
        assert r.stderr.strip() == ('Error from server (Forbidden): pods is forbidden: User "jane" cannot list resource "pods" '
                                    'in API group "" in the namespace "default"')
        r = c.kubectl("--token", "not-a-token", "get", "pods", check=False)
        assert r.stderr.strip() == "error: You must be logged in to the server (Unauthorized)"
    finally:
        c.stop()


def test_service_account_token_rbac_and_reviews(cluster, ns):
    k = cluster.kubectl
    k("-n", ns, "create", "serviceaccount", "viewer")
    k("-n", ns, "create", "rolebinding", "viewer", "--clusterrole=view", f"--serviceaccount={ns}:viewer")
    token = k("-n", ns, "create", "token", "viewer").stdout.strip()
    sa = f"system:serviceaccount:{ns}:viewer"

    who = json.loads(k("--token", token, "auth", "whoami", "-o", "json").stdout)["status"]["userInfo"]
    assert who["username"] == sa
    assert who["groups"] == ["system:serviceaccounts", f"system:serviceaccounts:{ns}", "system:authenticated"]
    assert who["uid"] == k("-n", ns, "get", "sa", "viewer", "-o", "jsonpath={.metadata.uid}").stdout

    for who_args in (["--token", token], [f"--as={sa}"]):
        assert k(*who_args, "-n", ns, "auth", "can-i", "list", "pods").stdout.strip() == "yes"
        r = k(*who_args, "-n", ns, "auth", "can-i", "create", "pods", check=False)
        assert (r.returncode, r.stdout.strip()) == (1, "no")
        r = k(*who_args, "auth", "can-i", "list", "pods", "-n", "default", check=False)
        assert (r.returncode, r.stdout.strip()) == (1, "no"), "a RoleBinding grants in its own namespace only"
    rules = k("--token", token, "-n", ns, "auth", "can-i", "--list").stdout.splitlines()
    assert rules[0].split() == ["Resources", "Non-Resource", "URLs", "Resource", "Names", "Verbs"]
    assert ["pods", "[]", "[]", "[get", "list", "watch]"] in [line.split() for line in rules]

    assert "serviceaccount/viewer" in k("--token", token, "-n", ns, "get", "sa", "-o", "name").stdout.split()
    r = k("--token", token, "-n", ns, "create", "configmap", "x", "--from-literal=a=b", check=False)
    assert r.returncode == 1
    forbidden = (f'configmaps is forbidden: User "{sa}" cannot create resource "configmaps" in API group "" '
                 f'in the namespace "{ns}"')
    assert r.stderr.strip() == f"error: failed to create configmap: {forbidden}"
    r = k("--token", token, "-n", ns, "create", "-f", "-", input="apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-file\n", check=False)
    assert r.stderr.strip() == f'Error from server (Forbidden): error when creating "STDIN": {forbidden}'
    r = k("--token", token, "-n", ns, "get", "pods", "--as=someone", check=False)
    assert r.stderr.strip() == (f'Error from server (Forbidden): users "someone" is forbidden: User "{sa}" cannot impersonate '
                                'resource "users" in API group "" at the cluster scope')

    review = json.loads(k("create", "-o", "json", "-f", "-", input=json.dumps({
        "apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {"token": token}})).stdout)
    assert review["status"]["authenticated"] is True and review["status"]["user"]["username"] == sa
    sar = json.loads(k("create", "-o", "json", "-f", "-", input=json.dumps({
        "apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
        "spec": {"user": sa, "resourceAttributes": {"namespace": ns, "verb": "watch", "resource": "deployments", "group": "apps"}}})).stdout)
    assert sar["status"] == {"allowed": True,
                             "reason": f'RBAC: allowed by RoleBinding "viewer/{ns}" of ClusterRole "view" to ServiceAccount "viewer/{ns}"'}

    header, payload, signature = token.split(".")
    forged = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    forged["sub"] = f"system:serviceaccount:{ns}:admin"
    forged_payload = base64.urlsafe_b64encode(json.dumps(forged).encode()).decode().rstrip("=")
    r = k("--token", f"{header}.{forged_payload}.{signature}", "-n", ns, "get", "pods", check=False)
    assert r.stderr.strip() == "error: You must be logged in to the server (Unauthorized)", "a changed claim breaks the signature"

    # A token bound to a secret stops working with the secret; any token with its account.
    k("-n", ns, "create", "secret", "generic", "holder")
    bound = k("-n", ns, "create", "token", "viewer", "--bound-object-kind=Secret", "--bound-object-name=holder").stdout.strip()
    assert k("--token", bound, "-n", ns, "auth", "can-i", "get", "pods").stdout.strip() == "yes"
    k("-n", ns, "delete", "secret", "holder")
    unauthorized = "error: You must be logged in to the server (Unauthorized)"
    assert k("--token", bound, "-n", ns, "get", "pods", check=False).stderr.strip() == unauthorized
    k("-n", ns, "delete", "sa", "viewer")
    assert k("--token", token, "-n", ns, "get", "pods", check=False).stderr.strip() == unauthorized

    r = k("-n", ns, "create", "token", "nobody", check=False)
    assert r.stderr.strip() == 'error: failed to create token: serviceaccounts "nobody" not found'
    k("-n", ns, "create", "serviceaccount", "other")
    r = k("-n", ns, "create", "token", "other", "--duration=1m", check=False)
    assert r.stderr.strip() == ('error: failed to create token: TokenRequest.authentication.k8s.io "other" is invalid: '
                                'spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes')


def test_bootstrap_roles_and_aggregation(cluster):
    k = cluster.kubectl
    names = k("get", "clusterroles", "-o", "name").stdout.split()
    for role in ("cluster-admin", "admin", "edit", "view", "system:discovery", "system:basic-user", "system:public-info-viewer"):
        assert f"clusterrole.rbac.authorization.k8s.io/{role}" in names
    masters = json.loads(k("get", "clusterrolebinding", "cluster-admin", "-o", "json").stdout)
    assert masters["subjects"] == [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:masters"}]

    k("create", "-f", "-", input="""apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: widgets-view
  labels:
    rbac.authorization.k8s.io/aggregate-to-view: "true"
rules:
- apiGroups: ["example.com"]
  resources: ["widgets"]
  verbs: ["get", "list", "watch"]
""")
    try:
        for role in ("view", "edit", "admin"):
            for _ in range(100):
                rules = json.loads(k("get", "clusterrole", role, "-o", "json").stdout)["rules"]
                if any(r.get("apiGroups") == ["example.com"] for r in rules):
                    break
                time.sleep(0.05)
            else:
                raise AssertionError(f"{role} did not aggregate widgets-view: {rules}")
        assert k("auth", "can-i", "list", "widgets.example.com", "--as=jane", "--as-group=viewers", check=False).stdout.strip() == "no"
    finally:
        k("delete", "clusterrole", "widgets-view")


def test_service_account_issuer_discovery_verifies_a_token(cluster, ns):
    """The OpenID configuration and key set, served as upstream serves them to service accounts, verify the
    signature of a token `kubectl create token` made."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    def b64(text):
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    k = cluster.kubectl
    k("-n", ns, "create", "serviceaccount", "reader")
    token = k("-n", ns, "create", "token", "reader").stdout.strip()
    # Anonymous may not read it; a service account may (system:service-account-issuer-discovery).
    assert fetch(cluster, "/.well-known/openid-configuration")[0] == 403
    status, config = fetch(cluster, "/.well-known/openid-configuration", token=token)
    assert status == 200
    assert config["issuer"] == "https://kubernetes.default.svc.cluster.local"
    assert config["jwks_uri"].endswith("/openid/v1/jwks") and config["response_types_supported"] == ["id_token"]
    status, keys = fetch(cluster, "/openid/v1/jwks", token=token)
    assert status == 200 and len(keys["keys"]) == 1
    header, payload, signature = token.split(".")
    kid = json.loads(b64(header))["kid"]
    jwk = next(key for key in keys["keys"] if key["kid"] == kid)
    assert jwk["alg"] in config["id_token_signing_alg_values_supported"] and jwk["use"] == "sig"
    public = ec.EllipticCurvePublicNumbers(int.from_bytes(b64(jwk["x"]), "big"), int.from_bytes(b64(jwk["y"]), "big"),
                                           ec.SECP256R1()).public_key()
    raw = b64(signature)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    public.verify(der, f"{header}.{payload}".encode(), ec.ECDSA(hashes.SHA256()))  # raises if it does not verify
    assert json.loads(b64(payload))["iss"] == config["issuer"]
