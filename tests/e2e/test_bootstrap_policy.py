"""Upstream's bootstrap RBAC policy in full: every default ClusterRole (the names upstream creates, kept here), their
bindings, the Roles of kube-system and kube-public, reconciled at every start as upstream reconciles them."""
import json

from conftest import wait_for

# kubernetes' bootstrap policy (plugin/pkg/auth/authorizer/rbac/bootstrappolicy/testdata), plus metrics-server's reader.
UPSTREAM_CLUSTER_ROLES = [
    "admin", "cluster-admin", "edit", "system:aggregate-to-admin", "system:aggregate-to-edit", "system:aggregate-to-view",
    "system:auth-delegator", "system:basic-user",
    "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
    "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
    "system:certificates.k8s.io:kube-apiserver-client-approver", "system:certificates.k8s.io:kube-apiserver-client-kubelet-approver",
    "system:certificates.k8s.io:kubelet-serving-approver", "system:certificates.k8s.io:legacy-unknown-approver",
    "system:discovery", "system:heapster", "system:kube-aggregator", "system:kube-controller-manager", "system:kube-dns",
    "system:kube-scheduler", "system:kubelet-api-admin", "system:monitoring", "system:node", "system:node-bootstrapper",
    "system:node-problem-detector", "system:node-proxier", "system:persistent-volume-provisioner", "system:public-info-viewer",
    "system:service-account-issuer-discovery", "system:volume-scheduler", "view",
] + ["system:controller:" + c for c in [
    "attachdetach-controller", "certificate-controller", "clusterrole-aggregation-controller", "cronjob-controller",
    "daemon-set-controller", "deployment-controller", "device-taint-eviction-controller", "disruption-controller",
    "endpoint-controller", "endpointslice-controller", "endpointslicemirroring-controller", "ephemeral-volume-controller",
    "expand-controller", "generic-garbage-collector", "horizontal-pod-autoscaler", "job-controller",
    "legacy-service-account-token-cleaner", "namespace-controller", "node-controller", "persistent-volume-binder",
    "pod-garbage-collector", "pv-protection-controller", "pvc-protection-controller", "replicaset-controller",
    "replication-controller", "resource-claim-controller", "resourcequota-controller", "root-ca-cert-publisher",
    "route-controller", "selinux-warning-controller", "service-account-controller", "service-cidrs-controller",
    "service-controller", "statefulset-controller", "ttl-after-finished-controller", "ttl-controller",
    "validatingadmissionpolicy-status-controller", "volumeattributesclass-protection-controller",
]] + ["system:aggregated-metrics-reader"]

NAMESPACED_ROLES = [
    ("kube-public", "system:controller:bootstrap-signer"), ("kube-system", "extension-apiserver-authentication-reader"),
    ("kube-system", "system::leader-locking-kube-controller-manager"), ("kube-system", "system::leader-locking-kube-scheduler"),
    ("kube-system", "system:controller:bootstrap-signer"), ("kube-system", "system:controller:cloud-provider"),
    ("kube-system", "system:controller:token-cleaner"),
]


def names(cluster, *args):
    return [line.split("/", 1)[1] for line in cluster.kubectl("get", *args, "-o", "name").stdout.split()]


def test_every_upstream_default_role_and_binding_exists(cluster):
    assert sorted(names(cluster, "clusterroles")) == sorted(UPSTREAM_CLUSTER_ROLES)
    roles = json.loads(cluster.kubectl("get", "roles", "-A", "-o", "json").stdout)["items"]
    assert sorted((r["metadata"]["namespace"], r["metadata"]["name"]) for r in roles) == sorted(NAMESPACED_ROLES)
    node = json.loads(cluster.kubectl("get", "clusterrole", "system:node", "-o", "json").stdout)
    assert node["metadata"]["labels"]["kubernetes.io/bootstrapping"] == "rbac-defaults"
    assert node["metadata"]["annotations"]["rbac.authorization.kubernetes.io/autoupdate"] == "true"
    bindings = {b["metadata"]["name"]: b for b in json.loads(cluster.kubectl("get", "clusterrolebindings", "-o", "json").stdout)["items"]}
    assert [s["name"] for s in bindings["system:kube-scheduler"]["subjects"]] == ["system:kube-scheduler"]
    assert [s["name"] for s in bindings["system:service-account-issuer-discovery"]["subjects"]] == ["system:serviceaccounts"]
    controller = bindings["system:controller:deployment-controller"]["subjects"][0]
    assert (controller["kind"], controller["namespace"], controller["name"]) == ("ServiceAccount", "kube-system", "deployment-controller")


def test_the_schedulers_rules_are_upstreams(cluster):
    rows = [line.split() for line in cluster.kubectl("auth", "can-i", "--list", "--as=system:kube-scheduler").stdout.splitlines()]
    for expected in (["pods/binding", "[]", "[]", "[create]"], ["bindings", "[]", "[]", "[create]"],
                     ["pods", "[]", "[]", "[delete", "get", "list", "watch]"],
                     ["leases.coordination.k8s.io", "[]", "[kube-scheduler]", "[get", "update]"],
                     ["csinodes.storage.k8s.io", "[]", "[]", "[get", "list", "watch]"]):
        assert expected in rows, rows
    r = cluster.kubectl("auth", "can-i", "create", "deployments", "--as=system:kube-scheduler", check=False)
    assert (r.returncode, r.stdout.strip()) == (1, "no")


def test_a_service_account_bound_to_auth_delegator_reviews_tokens(cluster, ns):
    k = cluster.kubectl
    k("-n", ns, "create", "serviceaccount", "delegator")
    k("create", "clusterrolebinding", f"delegator-{ns}", "--clusterrole=system:auth-delegator", f"--serviceaccount={ns}:delegator")
    try:
        token = k("-n", ns, "create", "token", "delegator").stdout.strip()
        review = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {"token": token}}
        done = json.loads(k("--token", token, "create", "-o", "json", "-f", "-", input=json.dumps(review)).stdout)
        assert done["status"]["authenticated"] is True
        assert done["status"]["user"]["username"] == f"system:serviceaccount:{ns}:delegator"
    finally:
        k("delete", "clusterrolebinding", f"delegator-{ns}")


def test_defaults_are_reconciled_at_start_unless_autoupdate_is_off(fresh_cluster):
    c = fresh_cluster()
    k = c.kubectl
    # A default role that lost a rule gets it back; one its owner took over (autoupdate false) keeps its changes.
    for name, annotate in (("system:heapster", False), ("system:kube-dns", True)):
        role = json.loads(k("get", "clusterrole", name, "-o", "json").stdout)
        role["rules"] = role["rules"][:1]
        if annotate:
            role["metadata"]["annotations"]["rbac.authorization.kubernetes.io/autoupdate"] = "false"
        k("replace", "-f", "-", input=json.dumps(role))
    k("delete", "clusterrolebinding", "system:monitoring")
    before = {n: len(json.loads(k("get", "clusterrole", n, "-o", "json").stdout)["rules"]) for n in ("system:heapster", "system:kube-dns")}
    assert before == {"system:heapster": 1, "system:kube-dns": 1}
    c.stop()
    c.start()
    heapster = json.loads(k("get", "clusterrole", "system:heapster", "-o", "json").stdout)["rules"]
    assert len(heapster) > 1
    assert len(json.loads(k("get", "clusterrole", "system:kube-dns", "-o", "json").stdout)["rules"]) == 1
    wait_for("the binding made again", lambda: k("get", "clusterrolebinding", "system:monitoring", check=False).returncode == 0)
