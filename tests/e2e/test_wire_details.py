"""Bytes and shapes clients depend on, as a real cluster answers them: Status bodies in upstream's
field order with the trailing newline, Secret stringData merged into data, the deleted object where
upstream answers it, and the status fields a fresh DaemonSet always carries (typed clients decode)."""
import base64
import json

import pytest
from kubernetes import client, config
from kubernetes.client.rest import ApiException

from certificate_requests import request_pem
from conftest import STORE

# What componentstatuses calls the store: upstream's etcd-0, or Cubby's SQLite file.
STORE_COMPONENT = "etcd-0" if STORE == "etcd" else "sqlite-0"


@pytest.fixture
def api(cluster):
    c = config.new_client_from_config(config_file=cluster.kubeconfig)
    yield c
    c.close()


def test_a_status_reads_byte_for_byte_as_upstream_writes_it(api, ns):
    core = client.CoreV1Api(api)
    core.create_namespaced_config_map(ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="twice")))
    with pytest.raises(ApiException) as e:
        core.create_namespaced_config_map(ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="twice")))
    assert e.value.body == ('{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'
                            '"message":"configmaps \\"twice\\" already exists","reason":"AlreadyExists",'
                            '"details":{"name":"twice","kind":"configmaps"},"code":409}\n')
    apps = client.AppsV1Api(api)
    with pytest.raises(ApiException) as e:
        apps.read_namespaced_deployment("ghost", ns)
    assert e.value.body == ('{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'
                            '"message":"deployments.apps \\"ghost\\" not found","reason":"NotFound",'
                            '"details":{"name":"ghost","group":"apps","kind":"deployments"},"code":404}\n')
    # A finished delete of a config map answers a Success Status, in the same order.
    gone = core.delete_namespaced_config_map("twice", ns, _preload_content=False)
    body = json.loads(gone.data)
    assert list(body)[:4] == ["kind", "apiVersion", "metadata", "status"] and body["status"] == "Success"


def test_secret_string_data_is_merged_into_data(cluster, ns):
    manifest = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "creds", "namespace": ns},
                "data": {"user": base64.b64encode(b"old").decode()}, "stringData": {"user": "admin", "pass": "s3cret"}}
    cluster.kubectl("apply", "-f", "-", input=json.dumps(manifest))
    secret = json.loads(cluster.kubectl("get", "secret", "creds", "-n", ns, "-o", "json").stdout)
    assert "stringData" not in secret
    assert {k: base64.b64decode(v).decode() for k, v in secret["data"].items()} == {"user": "admin", "pass": "s3cret"}
    cluster.kubectl("patch", "secret", "creds", "-n", ns, "-p", '{"stringData":{"pass":"changed"}}')
    secret = json.loads(cluster.kubectl("get", "secret", "creds", "-n", ns, "-o", "json").stdout)
    assert base64.b64decode(secret["data"]["pass"]) == b"changed" and "stringData" not in secret


def test_deletes_answer_the_object_where_upstream_does(api, ns):
    core = client.CoreV1Api(api)
    core.create_namespaced_service(ns, client.V1Service(metadata=client.V1ObjectMeta(name="web"), spec=client.V1ServiceSpec(
        ports=[client.V1ServicePort(port=80)], selector={"app": "web"})))
    deleted = core.delete_namespaced_service("web", ns)
    assert isinstance(deleted, client.V1Service) and deleted.metadata.name == "web" and deleted.spec.ports[0].port == 80
    core.create_namespaced_service_account(ns, client.V1ServiceAccount(metadata=client.V1ObjectMeta(name="robot")))
    deleted = core.delete_namespaced_service_account("robot", ns)
    assert isinstance(deleted, client.V1ServiceAccount) and deleted.metadata.name == "robot"


def test_a_fresh_daemon_set_decodes_in_a_typed_client(api, ns):
    apps = client.AppsV1Api(api)
    labels = {"app": "agent"}
    created = apps.create_namespaced_daemon_set(ns, client.V1DaemonSet(
        metadata=client.V1ObjectMeta(name="agent"),
        spec=client.V1DaemonSetSpec(selector=client.V1LabelSelector(match_labels=labels), template=client.V1PodTemplateSpec(
            metadata=client.V1ObjectMeta(labels=labels), spec=client.V1PodSpec(containers=[client.V1Container(name="a", image="busybox")])))))
    status = created.status
    assert (status.current_number_scheduled, status.number_misscheduled, status.desired_number_scheduled, status.number_ready) == (0, 0, 0, 0)
    assert apps.read_namespaced_daemon_set("agent", ns).metadata.name == "agent"


# Autoscalers as kubectl makes them, and the GA resources of 1.37 served before their behaviour is built: stored, listed with upstream's
# columns, and a create says plainly what does not happen yet.
def test_autoscalers_and_stored_only_resources(cluster, ns):
    cluster.kubectl("create", "deployment", "web", "--image=busybox", "-n", ns)
    r = cluster.kubectl("autoscale", "deployment", "web", "--max=3", "--cpu=80%", "-n", ns)
    assert "horizontalpodautoscaler.autoscaling/web autoscaled" in r.stdout
    assert "stored only" not in r.stderr
    table = cluster.kubectl("get", "hpa", "web", "-n", ns).stdout.splitlines()
    assert table[0].split() == ["NAME", "REFERENCE", "TARGETS", "MINPODS", "MAXPODS", "REPLICAS", "AGE"]
    # No CPU request in its pods: no utilisation to show (test_autoscaling has the rest).
    assert table[1].split()[:6] == ["web", "Deployment/web", "cpu:", "<unknown>/80%", "1", "3"]
    names = cluster.kubectl("api-resources", "-o", "name").stdout.split()
    for resource in ["horizontalpodautoscalers.autoscaling", "certificatesigningrequests.certificates.k8s.io",
                     "validatingwebhookconfigurations.admissionregistration.k8s.io", "mutatingwebhookconfigurations.admissionregistration.k8s.io",
                     "validatingadmissionpolicies.admissionregistration.k8s.io", "flowschemas.flowcontrol.apiserver.k8s.io",
                     "prioritylevelconfigurations.flowcontrol.apiserver.k8s.io", "csidrivers.storage.k8s.io", "csinodes.storage.k8s.io",
                     "volumeattachments.storage.k8s.io", "servicecidrs.networking.k8s.io", "ipaddresses.networking.k8s.io",
                     "resourceclaims.resource.k8s.io", "deviceclasses.resource.k8s.io"]:
        assert resource in names, resource


def test_a_strategic_merge_patch_of_service_ports_merges_by_port(cluster, ns):
    cluster.kubectl("create", "service", "clusterip", "two", "--tcp=80:80", "--tcp=443:443", "-n", ns)
    cluster.kubectl("patch", "service", "two", "-n", ns, "-p", '{"spec":{"ports":[{"port":80,"name":"80-80","targetPort":8080}]}}')
    ports = json.loads(cluster.kubectl("get", "service", "two", "-n", ns, "-o", "jsonpath={.spec.ports}").stdout)
    assert [(p["port"], p["targetPort"]) for p in ports] == [(80, 8080), (443, 443)]



def managed(cluster, kind, name, ns):
    obj = json.loads(cluster.kubectl("get", kind, name, "-n", ns, "-o", "json", "--show-managed-fields").stdout)
    return obj, {(m["manager"], m["operation"]): m["fieldsV1"] for m in obj["metadata"]["managedFields"]}


def test_server_side_apply_owns_fields_as_structured_merge_diff_does(cluster, ns):
    def apply(manager, data, *flags):
        manifest = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "shared", "labels": {"team": "apps"}}, "data": data}
        cluster.kubectl("apply", "--server-side", "--field-manager", manager, *flags, "-n", ns, "-f", "-", input=json.dumps(manifest))

    # An Apply set names a map's entries, never the map itself (upstream's documented example).
    apply("a", {"x": "1", "y": "2"})
    _, sets = managed(cluster, "configmap", "shared", ns)
    assert sets[("a", "Apply")] == {"f:data": {"f:x": {}, "f:y": {}}, "f:metadata": {"f:labels": {"f:team": {}}}}
    # b takes y by force; a then applies an empty data map: x goes, b's y stays, and nothing conflicts.
    apply("b", {"y": "3"}, "--force-conflicts")
    apply("a", {})
    cm, sets = managed(cluster, "configmap", "shared", ns)
    assert cm["data"] == {"y": "3"} and sets[("a", "Apply")]["f:data"] == {} and sets[("b", "Apply")]["f:data"] == {"f:y": {}}

    # A port applied without its protocol is the TCP port already there (the protocol's default is a key).
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "ported"}, "spec": {
        "selector": {"matchLabels": {"app": "ported"}}, "template": {"metadata": {"labels": {"app": "ported"}}, "spec": {
            "containers": [{"name": "web", "image": "nginx", "ports": [{"containerPort": 80}]}]}}}}
    cluster.kubectl("create", "-n", ns, "-f", "-", input=json.dumps(deployment))
    cluster.kubectl("apply", "--server-side", "-n", ns, "-f", "-", input=json.dumps(deployment))
    dep, sets = managed(cluster, "deployment", "ported", ns)
    assert dep["spec"]["template"]["spec"]["containers"][0]["ports"] == [{"containerPort": 80, "protocol": "TCP"}]
    assert dep["metadata"]["generation"] == 1
    container = sets[("kubectl", "Apply")]["f:spec"]["f:template"]["f:spec"]["f:containers"]['k:{"name":"web"}']
    assert container["f:ports"] == {'k:{"containerPort":80,"protocol":"TCP"}': {".": {}, "f:containerPort": {}}}


UNKNOWN = {
    "Deployment": ({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "strict"},
                    "spec": {"bogusField": 1, "selector": {"matchLabels": {"app": "strict"}},
                             "template": {"metadata": {"labels": {"app": "strict"}},
                                          "spec": {"containers": [{"name": "c", "image": "busybox", "colour": "red"}]}}}},
                   ['unknown field "spec.bogusField"', 'unknown field "spec.template.spec.containers[0].colour"']),
    "Service": ({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "strict", "labelz": {}},
                 "spec": {"ports": [{"port": 80, "bogus": True}], "selector": {"app": "strict"}}},
                ['unknown field "metadata.labelz"', 'unknown field "spec.ports[0].bogus"']),
    # (No cpu asked for: the shared cluster's one node keeps its room for other suites.)
    "Pod": ({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "strict"}, "bogusTop": "x",
             "spec": {"terminationGracePeriodSeconds": 0, "containers": [{"name": "c", "image": "busybox", "resources": {"extra": {}}}]}},
            ['unknown field "bogusTop"', 'unknown field "spec.containers[0].resources.extra"']),
}


def test_unknown_fields_of_built_in_types_as_upstream_handles_them(cluster, ns):
    for kind, (manifest, fields) in UNKNOWN.items():
        check_unknown_fields(cluster, ns, kind, json.dumps(manifest), fields)


def check_unknown_fields(cluster, ns, kind, text, fields):
    # kubectl's default (--validate=strict): refused, every unknown field named, nothing stored.
    refused = cluster.kubectl("apply", "-n", ns, "-f", "-", input=text, check=False)
    assert refused.returncode != 0
    assert (f'{kind} in version "v1" cannot be handled as a {kind}: strict decoding error: ' + ", ".join(fields)) in refused.stderr
    assert cluster.kubectl("get", kind.lower(), "strict", "-n", ns, check=False).returncode != 0
    # --validate=warn: stored without them, each named in a warning.
    warned = cluster.kubectl("apply", "-n", ns, "-f", "-", "--validate=warn", input=text)
    for field in fields:
        assert f"Warning: {field}" in warned.stderr
    stored = json.loads(cluster.kubectl("get", kind.lower(), "strict", "-n", ns, "-o", "json").stdout)
    assert "bogusField" not in stored["spec"] and "bogusTop" not in stored and "labelz" not in stored["metadata"]
    # --validate=false: dropped without a word.
    cluster.kubectl("delete", kind.lower(), "strict", "-n", ns, "--wait=false")
    quiet = cluster.kubectl("create", "-n", ns, "-f", "-", "--validate=false", input=text)
    assert "Warning" not in quiet.stderr


def test_an_empty_value_in_a_map_of_strings_is_stored_as_an_empty_string(cluster, ns):
    """YAML's `a:` with nothing after it is null; Go decodes null into a string as "", so a real cluster
    stores "" (found by schemathesis: Cubby stored the null, and its own OpenAPI says a string)."""
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: empty\n  labels:\n    a:\n  annotations:\n    b:\ndata:\n  k:\n"
    cluster.kubectl("create", "-n", ns, "-f", "-", input=text)
    stored = json.loads(cluster.kubectl("get", "cm", "empty", "-n", ns, "-o", "json").stdout)
    assert (stored["metadata"]["labels"], stored["metadata"]["annotations"], stored["data"]) == ({"a": ""}, {"b": ""}, {"k": ""})
    # In a list, a null is its element type's zero; a field's null is left out.
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "nulls", "finalizers": None},
            "rules": [{"apiGroups": [None, "apps"], "resources": ["pods"], "verbs": ["get"], "resourceNames": None}]}
    cluster.kubectl("create", "-n", ns, "-f", "-", input=json.dumps(role))
    stored = json.loads(cluster.kubectl("get", "role", "nulls", "-n", ns, "-o", "json").stdout)
    assert stored["rules"] == [{"apiGroups": ["", "apps"], "resources": ["pods"], "verbs": ["get"]}]
    assert "finalizers" not in stored["metadata"]


def test_repeated_keys_in_a_body_are_named_as_upstream_strict_decoding_names_them(cluster, ns):
    # kubectl parses manifests itself; a raw body reaches the server as written.
    body = ('{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"twice","name":"twice"},"spec":{'
            '"selector":{"matchLabels":{"app":"twice"}},"template":{"metadata":{"labels":{"app":"twice"}},'
            '"spec":{"containers":[{"name":"c","image":"busybox","image":"nginx"}]}}}}')
    url = f"/apis/apps/v1/namespaces/{ns}/deployments"
    refused = cluster.kubectl("create", "--raw", url + "?fieldValidation=Strict", "-f", "-", input=body, check=False)
    assert refused.returncode != 0
    assert ('Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: duplicate field "metadata.name", '
            'duplicate field "spec.template.spec.containers[0].image"') in refused.stderr
    warned = cluster.kubectl("create", "--raw", url + "?fieldValidation=Warn", "-f", "-", input=body)
    assert 'Warning: duplicate field "spec.template.spec.containers[0].image"' in warned.stderr
    # As Go's decoder does, the last value of a repeated key is the one kept.
    assert json.loads(warned.stdout)["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx"
    replaced = cluster.kubectl("replace", "--raw", url + "/twice?fieldValidation=Ignore", "-f", "-", input=body)
    assert "Warning" not in replaced.stderr


def test_kubectl_explain_reads_upstream_descriptions(cluster):
    out = cluster.kubectl("explain", "deployment.spec.strategy.rollingUpdate.maxSurge").stdout
    assert "The maximum number of pods that can be scheduled above the desired number of pods." in " ".join(out.split())
    out = cluster.kubectl("explain", "pod.spec.containers.resizePolicy").stdout
    assert "Resources resize policy for the container." in " ".join(out.split())
    # Int-or-string and quantity fields are named by their type, as upstream's v3 document makes kubectl do.
    assert "FIELD: maxSurge <IntOrString>" in cluster.kubectl("explain", "deployment.spec.strategy.rollingUpdate.maxSurge").stdout
    assert "limits\t<map[string]Quantity>" in cluster.kubectl("explain", "pod.spec.containers.resources").stdout


def test_ephemeral_containers_come_only_through_their_subresource(cluster, ns):
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "debugged"},
           "spec": {"containers": [{"name": "c", "image": "busybox"}],
                    "ephemeralContainers": [{"name": "debugger", "image": "busybox", "targetContainerName": "c"}]}}
    refused = cluster.kubectl("create", "-n", ns, "-f", "-", input=json.dumps(pod), check=False)
    assert refused.returncode != 0
    assert 'The Pod "debugged" is invalid: spec.ephemeralContainers: Forbidden: cannot be set on create' in refused.stderr


def test_subresources_are_listed_and_served_as_their_resources_declare_them(cluster, ns):
    core = json.loads(cluster.kubectl("get", "--raw", "/api/v1").stdout)["resources"]
    subs = {r["name"]: (r.get("group", ""), r["kind"], sorted(r["verbs"])) for r in core if "/" in r["name"]}
    assert subs["pods/eviction"] == ("policy", "Eviction", ["create"])
    assert subs["pods/binding"] == ("", "Binding", ["create"])
    assert subs["pods/exec"] == ("", "PodExecOptions", ["create", "get"])
    assert subs["pods/log"] == ("", "Pod", ["get"])
    assert subs["serviceaccounts/token"] == ("authentication.k8s.io", "TokenRequest", ["create"])
    assert subs["namespaces/finalize"] == ("", "Namespace", ["update"])
    assert not any(name.startswith("services/") and name != "services/status" for name in subs)
    # A subresource the resource does not declare is not there, as on a real cluster.
    cluster.kubectl("create", "service", "clusterip", "web", "--tcp=80:80", "-n", ns)
    missing = cluster.kubectl("create", "--raw", f"/api/v1/namespaces/{ns}/services/web/binding", "-f", "-",
                              input='{"apiVersion":"v1","kind":"Binding","metadata":{"name":"web"},"target":{"name":"n"}}', check=False)
    assert missing.returncode != 0 and "Error from server (NotFound): the server could not find the requested resource" in missing.stderr


def test_component_statuses_report_the_control_plane(cluster, api):
    got = cluster.kubectl("get", "componentstatuses")
    assert "Warning: v1 ComponentStatus is deprecated in v1.19+" in got.stderr
    rows = [line.split() for line in got.stdout.splitlines()]
    assert rows[0] == ["NAME", "STATUS", "MESSAGE", "ERROR"]
    assert rows[1:] == [["scheduler", "Healthy", "ok"], ["controller-manager", "Healthy", "ok"], [STORE_COMPONENT, "Healthy", "ok"]]
    statuses = client.CoreV1Api(api).list_component_status().items
    assert {s.metadata.name: (s.conditions[0].type, s.conditions[0].status) for s in statuses}["scheduler"] == ("Healthy", "True")
    assert client.CoreV1Api(api).read_component_status(STORE_COMPONENT).conditions[0].message == "ok"
    assert "cs" in cluster.kubectl("api-resources", "--api-group=").stdout.split()


# Every GA resource kubectl api-resources lists on a 1.37 cluster (its -o name form), nothing else
# but the metrics API's two.
GA_1_37 = """
bindings componentstatuses configmaps endpoints events limitranges namespaces nodes persistentvolumeclaims persistentvolumes pods
podtemplates replicationcontrollers resourcequotas secrets serviceaccounts services
mutatingadmissionpolicies.admissionregistration.k8s.io mutatingadmissionpolicybindings.admissionregistration.k8s.io
mutatingwebhookconfigurations.admissionregistration.k8s.io validatingadmissionpolicies.admissionregistration.k8s.io
validatingadmissionpolicybindings.admissionregistration.k8s.io validatingwebhookconfigurations.admissionregistration.k8s.io
customresourcedefinitions.apiextensions.k8s.io apiservices.apiregistration.k8s.io
controllerrevisions.apps daemonsets.apps deployments.apps replicasets.apps statefulsets.apps
selfsubjectreviews.authentication.k8s.io tokenreviews.authentication.k8s.io localsubjectaccessreviews.authorization.k8s.io
selfsubjectaccessreviews.authorization.k8s.io selfsubjectrulesreviews.authorization.k8s.io subjectaccessreviews.authorization.k8s.io
horizontalpodautoscalers.autoscaling cronjobs.batch jobs.batch
certificatesigningrequests.certificates.k8s.io clustertrustbundles.certificates.k8s.io podcertificaterequests.certificates.k8s.io
leases.coordination.k8s.io endpointslices.discovery.k8s.io events.events.k8s.io
flowschemas.flowcontrol.apiserver.k8s.io prioritylevelconfigurations.flowcontrol.apiserver.k8s.io
ingressclasses.networking.k8s.io ingresses.networking.k8s.io ipaddresses.networking.k8s.io networkpolicies.networking.k8s.io
servicecidrs.networking.k8s.io runtimeclasses.node.k8s.io poddisruptionbudgets.policy
clusterrolebindings.rbac.authorization.k8s.io clusterroles.rbac.authorization.k8s.io rolebindings.rbac.authorization.k8s.io
roles.rbac.authorization.k8s.io deviceclasses.resource.k8s.io devicetaintrules.resource.k8s.io resourceclaims.resource.k8s.io
resourceclaimtemplates.resource.k8s.io resourceslices.resource.k8s.io priorityclasses.scheduling.k8s.io
csidrivers.storage.k8s.io csinodes.storage.k8s.io csistoragecapacities.storage.k8s.io storageclasses.storage.k8s.io
volumeattachments.storage.k8s.io volumeattributesclasses.storage.k8s.io storageversionmigrations.storagemigration.k8s.io
""".split()


def test_api_resources_lists_every_ga_resource_of_1_37(cluster):
    names = cluster.kubectl("api-resources", "-o", "name").stdout.split()
    # Other suites' CRDs on the shared cluster are listed too, named as their CRDs are.
    crds = cluster.kubectl("get", "crd", "-o", "jsonpath={.items[*].metadata.name}").stdout.split()
    assert sorted(n for n in names if n not in crds) == sorted(GA_1_37 + ["nodes.metrics.k8s.io", "pods.metrics.k8s.io"])


def test_bindings_and_stored_only_kinds_through_the_typed_client(cluster, api, ns, tmp_path):
    core = client.CoreV1Api(api)
    node = core.list_node().items[0].metadata.name
    # A pod no scheduler may take (another scheduler's), bound through POST bindings as older tools do.
    core.create_namespaced_pod(ns, {"metadata": {"name": "bound"}, "spec": {"schedulerName": "elsewhere",
                                                                          "containers": [{"name": "c", "image": "busybox"}]}})
    core.create_namespaced_binding(ns, {"metadata": {"name": "bound"}, "target": {"kind": "Node", "name": node}}, _preload_content=False)
    assert core.read_namespaced_pod("bound", ns).spec.node_name == node
    # Stored-only kinds decode in their typed models.
    hpa = {"metadata": {"name": "web"}, "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                                                  "maxReplicas": 3}}
    client.AutoscalingV2Api(api).create_namespaced_horizontal_pod_autoscaler(ns, hpa)
    read = client.AutoscalingV2Api(api).read_namespaced_horizontal_pod_autoscaler("web", ns)
    assert isinstance(read, client.V2HorizontalPodAutoscaler) and read.spec.max_replicas == 3
    # And a CertificateSigningRequest (a real request: the API checks it).
    _, request = request_pem(tmp_path, "typed", "/CN=typed", ec=True)
    csr = client.CertificatesV1Api(api).create_certificate_signing_request(
        {"metadata": {"name": f"{ns}-typed"}, "spec": {"request": base64.b64encode(request).decode(),
                                                       "signerName": "kubernetes.io/kube-apiserver-client", "usages": ["client auth"]}})
    try:
        assert isinstance(csr, client.V1CertificateSigningRequest) and csr.spec.username
    finally:
        client.CertificatesV1Api(api).delete_certificate_signing_request(f"{ns}-typed")
