"""CertificateSigningRequests as upstream's "create a user" task uses them: a key and a request made with
openssl, `kubectl certificate approve|deny`, the cluster CA's signer issuing the certificate, and a kubeconfig
that logs in with it under RBAC. Also the refusals: a bad request, a too-short lifetime, system:masters, and
usages the signer does not sign."""
import base64
import datetime
import json
import os
import shutil
import subprocess

import pytest

from certificate_requests import request_pem
from conftest import wait_for

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")

CLIENT_SIGNER = "kubernetes.io/kube-apiserver-client"


def csr_manifest(name, request, usages=("client auth",), signer=CLIENT_SIGNER, seconds=86400):
    spec = {"request": base64.b64encode(request).decode(), "signerName": signer, "usages": list(usages)}
    if seconds is not None:
        spec["expirationSeconds"] = seconds
    return json.dumps({"apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest",
                       "metadata": {"name": name}, "spec": spec})


def get_csr(cluster, name):
    return json.loads(cluster.kubectl("get", "csr", name, "-o", "json").stdout)


def condition_column(cluster, name):
    return cluster.kubectl("get", "csr", name, "--no-headers").stdout.split()[-1]


def openssl_text(pem, *fields, tmp_path):
    path = tmp_path / "issued.crt"
    path.write_bytes(pem)
    return subprocess.run(["openssl", "x509", "-in", str(path), "-noout", *fields], capture_output=True, text=True, check=True).stdout


def test_create_a_user_with_a_signed_certificate_and_rbac(cluster, tmp_path):
    key, request = request_pem(tmp_path, "myuser", "/CN=myuser/O=developers")
    manifest = json.loads(csr_manifest("myuser", request))
    manifest["spec"].update(username="someone-else", groups=["system:masters"])
    cluster.kubectl("apply", "-f", "-", input=json.dumps(manifest))
    # Pending until approved; the requestor is who created it, whatever the body claimed.
    me = json.loads(cluster.kubectl("auth", "whoami", "-o", "json").stdout)["status"]["userInfo"]
    spec = get_csr(cluster, "myuser")["spec"]
    assert (spec["username"], spec["groups"]) == (me["username"], me["groups"])
    row = cluster.kubectl("get", "csr", "myuser").stdout.splitlines()
    assert row[0].split() == ["NAME", "AGE", "SIGNERNAME", "REQUESTOR", "REQUESTEDDURATION", "CONDITION"]
    assert row[1].split()[2:] == [CLIENT_SIGNER, "kubernetes-admin", "24h", "Pending"]
    assert "certificate" not in get_csr(cluster, "myuser")["status"]

    out = cluster.kubectl("certificate", "approve", "myuser").stdout
    assert out.strip() == "certificatesigningrequest.certificates.k8s.io/myuser approved"
    csr = wait_for("the certificate", lambda: (c := get_csr(cluster, "myuser"))["status"].get("certificate") and c)
    assert condition_column(cluster, "myuser") == "Approved,Issued"
    approved = [c for c in csr["status"]["conditions"] if c["type"] == "Approved"][0]
    assert approved["status"] == "True" and approved["reason"] == "KubectlApprove" and approved["lastTransitionTime"]

    # Issued by the cluster's CA, for the subject asked, for the 24 hours asked (expirationSeconds).
    pem = base64.b64decode(csr["status"]["certificate"])
    ca = tmp_path / "ca.crt"
    ca.write_bytes(base64.b64decode(json.loads(cluster.kubectl("config", "view", "--raw", "-o", "json").stdout)
                                    ["clusters"][0]["cluster"]["certificate-authority-data"]))
    (tmp_path / "myuser.crt").write_bytes(pem)
    verify = subprocess.run(["openssl", "verify", "-CAfile", str(ca), str(tmp_path / "myuser.crt")], capture_output=True, text=True)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    subject = openssl_text(pem, "-subject", "-nameopt", "RFC2253", tmp_path=tmp_path)
    assert subject.strip() == "subject=O=developers,CN=myuser"
    assert "TLS Web Client Authentication" in openssl_text(pem, "-ext", "extendedKeyUsage", tmp_path=tmp_path)
    end = openssl_text(pem, "-enddate", tmp_path=tmp_path).strip().split("=", 1)[1]
    not_after = datetime.datetime.strptime(end, "%b %d %H:%M:%S %Y %Z").replace(tzinfo=datetime.timezone.utc)
    left = (not_after - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
    assert 86400 - 600 < left <= 86400 + 60, left

    # A kubeconfig with the new user's certificate: who it is, and RBAC deciding what it may do.
    kubeconfig = tmp_path / "config"
    shutil.copy(cluster.kubeconfig, kubeconfig)
    env = dict(os.environ, KUBECONFIG=str(kubeconfig))

    def as_user(*args):
        return subprocess.run(["kubectl", "--user", "myuser", *args], capture_output=True, text=True, env=env, timeout=60)
    subprocess.run(["kubectl", "config", "set-credentials", "myuser", f"--client-key={key}",
                    f"--client-certificate={tmp_path / 'myuser.crt'}", "--embed-certs=true"], env=env, check=True, capture_output=True)
    whoami = json.loads(as_user("auth", "whoami", "-o", "json").stdout)["status"]["userInfo"]
    assert whoami["username"] == "myuser" and "developers" in whoami["groups"]
    denied = as_user("get", "pods", "-n", "default")
    assert denied.returncode != 0
    assert 'User "myuser" cannot list resource "pods" in API group "" in the namespace "default"' in denied.stderr
    cluster.kubectl("create", "role", "developer", "-n", "default", "--verb=get,list", "--resource=pods")
    cluster.kubectl("create", "rolebinding", "developer-myuser", "-n", "default", "--role=developer", "--user=myuser")
    try:
        wait_for("the binding to apply", lambda: as_user("get", "pods", "-n", "default").returncode == 0)
        assert as_user("get", "deployments", "-n", "default").returncode != 0
    finally:
        cluster.kubectl("delete", "rolebinding", "developer-myuser", "-n", "default")
        cluster.kubectl("delete", "role", "developer", "-n", "default")
        cluster.kubectl("delete", "csr", "myuser")


def test_denied_request_gets_no_certificate_and_approval_cannot_be_undone(cluster, tmp_path):
    _, request = request_pem(tmp_path, "denied", "/CN=denied", ec=True)
    cluster.kubectl("create", "-f", "-", input=csr_manifest("denied", request))
    out = cluster.kubectl("certificate", "deny", "denied").stdout
    assert out.strip() == "certificatesigningrequest.certificates.k8s.io/denied denied"
    assert condition_column(cluster, "denied") == "Denied"
    # Approving a denied request: kubectl says no; forced, the server refuses (upstream's mutual exclusion).
    r = cluster.kubectl("certificate", "approve", "denied", check=False)
    assert r.returncode != 0 and 'certificate signing request "denied" is already Denied' in r.stderr
    csr = get_csr(cluster, "denied")
    csr["status"]["conditions"].append({"type": "Approved", "status": "True", "reason": "Mine"})
    r = cluster.kubectl("replace", "--raw", "/apis/certificates.k8s.io/v1/certificatesigningrequests/denied/approval",
                        "-f", "-", input=json.dumps(csr), check=False)
    assert r.returncode != 0 and "Approved and Denied conditions are mutually exclusive" in r.stderr, r.stderr
    # Nor can a decision be taken back.
    csr["status"]["conditions"] = []
    r = cluster.kubectl("replace", "--raw", "/apis/certificates.k8s.io/v1/certificatesigningrequests/denied/approval",
                        "-f", "-", input=json.dumps(csr), check=False)
    assert 'status.conditions: Forbidden: updates may not remove a condition of type "Denied"' in r.stderr, r.stderr
    # The spec is the requester's: an edit of it through the object changes nothing.
    cluster.kubectl("patch", "csr", "denied", "--type=merge", "-p", '{"spec":{"signerName":"example.com/other"}}')
    assert get_csr(cluster, "denied")["spec"]["signerName"] == CLIENT_SIGNER
    assert "certificate" not in get_csr(cluster, "denied")["status"]
    cluster.kubectl("delete", "csr", "denied")


def test_requests_the_signer_refuses_fail_with_its_reason(cluster, tmp_path):
    _, request = request_pem(tmp_path, "server", "/CN=server", ec=True)
    cluster.kubectl("create", "-f", "-", input=csr_manifest("server-usage", request, usages=("server auth",)))
    cluster.kubectl("certificate", "approve", "server-usage")
    csr = wait_for("the Failed condition", lambda: (c := get_csr(cluster, "server-usage"))
                   and any(x["type"] == "Failed" for x in c["status"].get("conditions", [])) and c)
    failed = [x for x in csr["status"]["conditions"] if x["type"] == "Failed"][0]
    assert failed["reason"] == "SignerValidationFailure"
    assert failed["message"] == "invalid usage for client certificate: server auth"
    assert condition_column(cluster, "server-usage") == "Approved,Failed"
    assert "certificate" not in csr["status"]
    cluster.kubectl("delete", "csr", "server-usage")


def test_bad_requests_are_refused_with_upstreams_errors(cluster, tmp_path):
    _, request = request_pem(tmp_path, "bad", "/CN=bad", ec=True)
    r = cluster.kubectl("create", "-f", "-", input=csr_manifest("bad", b"not a request"), check=False)
    assert r.returncode != 0
    assert 'The CertificateSigningRequest "bad" is invalid: spec.request: Invalid value: []byte{0x6e, 0x6f, 0x74' in r.stderr
    assert "PEM block type must be CERTIFICATE REQUEST" in r.stderr
    r = cluster.kubectl("create", "-f", "-", input=csr_manifest("bad", request, seconds=60), check=False)
    assert "spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 600 seconds (10 minutes)" in r.stderr
    r = cluster.kubectl("create", "-f", "-", input=csr_manifest("bad", request, usages=()), check=False)
    assert "spec.usages: Required value" in r.stderr
    r = cluster.kubectl("create", "-f", "-", input=csr_manifest("bad", request, signer="nodomain"), check=False)
    assert "spec.signerName: Invalid value: \"nodomain\": must be a fully qualified domain and path of the form 'example.com/signer-name'" in r.stderr
    _, masters = request_pem(tmp_path, "masters", "/CN=sneaky/O=system:masters", ec=True)
    r = cluster.kubectl("create", "-f", "-", input=csr_manifest("masters", masters), check=False)
    assert r.returncode != 0
    assert ('certificatesigningrequests.certificates.k8s.io "masters" is forbidden: use of kubernetes.io/kube-apiserver-client '
            'signer with system:masters group is not allowed') in r.stderr
    assert cluster.kubectl("get", "csr", "bad", "masters", "--ignore-not-found", "-o", "name").stdout == ""


def test_approving_takes_the_approve_verb_on_the_signer(cluster, tmp_path):
    """Upstream's CertificateApproval: the right to update the approval subresource is not enough; the approver
    needs `approve` on the request's signer (resource signers, by signerName or DOMAIN/*)."""
    _, request = request_pem(tmp_path, "gated", "/CN=gated", ec=True)
    cluster.kubectl("create", "-f", "-", input=csr_manifest("gated", request))
    rules = [{"apiGroups": ["certificates.k8s.io"], "resources": ["certificatesigningrequests"], "verbs": ["get", "list"]},
             {"apiGroups": ["certificates.k8s.io"], "resources": ["certificatesigningrequests/approval"], "verbs": ["update"]}]
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "csr-approver"}, "rules": rules}
    cluster.kubectl("apply", "-f", "-", input=json.dumps(role))
    cluster.kubectl("create", "clusterrolebinding", "csr-approver", "--clusterrole=csr-approver", "--user=approver")
    try:
        r = cluster.kubectl("certificate", "approve", "gated", "--as=approver", check=False)
        assert r.returncode != 0
        assert ('certificatesigningrequests.certificates.k8s.io "gated" is forbidden: user not permitted to approve requests '
                f'with signerName "{CLIENT_SIGNER}"') in r.stderr, r.stderr
        assert condition_column(cluster, "gated") == "Pending"
        # The signer's domain with /* grants it, as upstream's check allows.
        role["rules"].append({"apiGroups": ["certificates.k8s.io"], "resources": ["signers"], "verbs": ["approve"],
                              "resourceNames": ["kubernetes.io/*"]})
        cluster.kubectl("apply", "-f", "-", input=json.dumps(role))
        wait_for("the approval", lambda: cluster.kubectl("certificate", "approve", "gated", "--as=approver", check=False).returncode == 0)
        wait_for("the certificate", lambda: get_csr(cluster, "gated")["status"].get("certificate"))
    finally:
        cluster.kubectl("delete", "clusterrolebinding", "csr-approver")
        cluster.kubectl("delete", "clusterrole", "csr-approver")
        cluster.kubectl("delete", "csr", "gated")
