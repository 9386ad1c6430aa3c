"""kubectl v1.37 against localkube: what a user types, and what a real cluster prints back."""
import json
import re
import subprocess
import time

from conftest import free_port

APP = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: web, image: "nginx:1.27", ports: [{containerPort: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, labels: {app: web}}
spec:
  selector: {app: web}
  ports: [{port: 80}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, labels: {app: web}}
data: {mode: fast}
---
apiVersion: v1
kind: Secret
metadata: {name: creds}
stringData: {password: hunter2}
"""

CRD = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gadgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: gadgets, singular: gadget, kind: Gadget, shortNames: [gd]}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer}
    additionalPrinterColumns:
    - {name: Size, type: integer, jsonPath: .spec.size}
"""

GADGET = """
apiVersion: example.com/v1
kind: Gadget
metadata: {name: g1}
spec: {size: 3}
"""


def lines(text):
    return [l.split() for l in text.strip().splitlines()]


def test_api_resources_and_versions(cluster):
    out = cluster.kubectl("api-resources").stdout
    header = out.splitlines()[0].split()
    assert header == ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
    # Keyed by name and group: metrics.k8s.io has its own "nodes" and "pods".
    rows = {r[0]: r for r in lines(out)[1:] if not any(c.startswith("metrics.k8s.io/") for c in r)}
    assert rows["pods"][1:] == ["po", "v1", "true", "Pod"]
    assert rows["deployments"][1:] == ["deploy", "apps/v1", "true", "Deployment"]
    assert rows["configmaps"][1] == "cm"
    assert rows["namespaces"][1:] == ["ns", "v1", "false", "Namespace"]
    assert "crd" in rows["customresourcedefinitions"][1]
    versions = cluster.kubectl("api-versions").stdout.split()
    for v in ["v1", "apps/v1", "batch/v1", "rbac.authorization.k8s.io/v1", "apiextensions.k8s.io/v1"]:
        assert v in versions


def test_explain_pod_containers(cluster):
    out = cluster.kubectl("explain", "pods.spec.containers").stdout
    assert "KIND:       Pod" in out
    assert "FIELD: containers <[]Container>" in out
    for field in ["image\t<string>", "name\t<string>", "ports\t<[]ContainerPort>"]:
        assert field in out


def test_create_apply_and_get_formats(cluster, ns):
    out = cluster.kubectl("create", "-n", ns, "-f", "-", input=APP).stdout
    assert out.splitlines() == ["deployment.apps/web created", "service/web created", "configmap/settings created", "secret/creds created"]
    again = cluster.kubectl("apply", "-n", ns, "-f", "-", input=APP)
    assert "deployment.apps/web configured" in again.stdout
    # A second apply of the same manifest changes nothing.
    third = cluster.kubectl("apply", "-n", ns, "-f", "-", input=APP).stdout
    assert "deployment.apps/web unchanged" in third and "configmap/settings unchanged" in third

    dep = json.loads(cluster.kubectl("get", "deploy", "web", "-n", ns, "-o", "json").stdout)
    assert dep["spec"]["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}
    assert dep["spec"]["revisionHistoryLimit"] == 10
    assert dep["spec"]["template"]["spec"]["restartPolicy"] == "Always"
    assert dep["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] == "IfNotPresent"
    assert dep["metadata"]["generation"] == 1

    svc = cluster.kubectl("get", "svc", "web", "-n", ns, "-o", "yaml").stdout
    assert "type: ClusterIP" in svc and "clusterIP: 10." in svc and "targetPort: 80" in svc

    assert cluster.kubectl("get", "cm", "settings", "-n", ns, "-o", "name").stdout.strip() == "configmap/settings"
    assert cluster.kubectl("get", "cm", "settings", "-n", ns, "-o", "jsonpath={.data.mode}").stdout == "fast"
    cc = cluster.kubectl("get", "cm", "-n", ns, "-o", "custom-columns=NAME:.metadata.name,MODE:.data.mode", "-l", "app=web").stdout
    assert lines(cc) == [["NAME", "MODE"], ["settings", "fast"]]

    cluster.kubectl("rollout", "status", "-n", ns, "deployment/web", "--timeout=60s")
    wide = lines(cluster.kubectl("get", "deploy", "-n", ns, "-o", "wide").stdout)
    assert wide[0] == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"]
    assert wide[1][0:4] == ["web", "2/2", "2", "2"] and wide[1][5:] == ["web", "nginx:1.27", "app=web"]

    svcs = lines(cluster.kubectl("get", "svc", "-n", ns).stdout)
    assert svcs[0] == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]
    assert svcs[1][1] == "ClusterIP" and svcs[1][3] == "<none>" and svcs[1][4] == "80/TCP"

    all_out = cluster.kubectl("get", "all", "-n", ns).stdout
    assert "service/web" in all_out and "deployment.apps/web" in all_out

    everywhere = cluster.kubectl("get", "cm", "-A").stdout
    assert lines(everywhere)[0][:2] == ["NAMESPACE", "NAME"] and f"{ns} " in everywhere

    by_field = cluster.kubectl("get", "secrets", "-n", ns, "--field-selector", "type=Opaque", "-o", "name").stdout
    assert by_field.split() == ["secret/creds"]


def test_typed_create_commands(cluster):
    """kubectl's create subcommands send protobuf bodies; the objects must come out as a real cluster stores them."""
    k = cluster.kubectl
    assert k("create", "namespace", "typed").stdout.strip() == "namespace/typed created"
    ns = json.loads(k("get", "ns", "typed", "-o", "json").stdout)
    assert ns["metadata"]["labels"] == {"kubernetes.io/metadata.name": "typed"}
    assert ns["spec"]["finalizers"] == ["kubernetes"] and ns["status"]["phase"] == "Active"

    assert k("create", "configmap", "cfg", "-n", "typed", "--from-literal=a=1", "--from-literal=b=").stdout.strip() == "configmap/cfg created"
    assert json.loads(k("get", "cm", "cfg", "-n", "typed", "-o", "json").stdout)["data"] == {"a": "1", "b": ""}
    k("create", "secret", "generic", "pw", "-n", "typed", "--from-literal=password=hunter2")
    secret = json.loads(k("get", "secret", "pw", "-n", "typed", "-o", "json").stdout)
    assert secret["type"] == "Opaque" and secret["data"] == {"password": "aHVudGVyMg=="}

    out = k("create", "deployment", "web", "-n", "typed", "--image=nginx:1.27", "--replicas=0", "--port=80", "--", "sleep", "5").stdout
    assert out.strip() == "deployment.apps/web created"
    dep = json.loads(k("get", "deploy", "web", "-n", "typed", "-o", "json").stdout)
    assert dep["spec"]["replicas"] == 0, "an explicit zero from a typed client is kept"
    assert dep["spec"]["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}
    assert dep["spec"]["selector"] == {"matchLabels": {"app": "web"}}
    container = dep["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["sleep", "5"] and container["ports"] == [{"containerPort": 80, "protocol": "TCP"}]
    assert container["imagePullPolicy"] == "IfNotPresent" and "stdin" not in container

    k("create", "service", "nodeport", "web", "-n", "typed", "--tcp=80:8080")
    svc = json.loads(k("get", "svc", "web", "-n", "typed", "-o", "json").stdout)
    assert svc["spec"]["type"] == "NodePort" and svc["spec"]["ports"][0]["targetPort"] == 8080
    assert 30000 <= svc["spec"]["ports"][0]["nodePort"] <= 32767

    k("create", "serviceaccount", "robot", "-n", "typed")
    k("create", "role", "reader", "-n", "typed", "--verb=get,list", "--resource=pods")
    k("create", "rolebinding", "read", "-n", "typed", "--role=reader", "--serviceaccount=typed:robot")
    binding = json.loads(k("get", "rolebinding", "read", "-n", "typed", "-o", "json").stdout)
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "robot", "namespace": "typed"}]

    k("create", "job", "once", "-n", "typed", "--image=busybox", "--", "echo", "hi")
    job = json.loads(k("get", "job", "once", "-n", "typed", "-o", "json").stdout)
    uid = job["metadata"]["uid"]
    assert job["spec"]["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
    assert job["spec"]["template"]["metadata"]["labels"]["job-name"] == "once"
    k("create", "cronjob", "tick", "-n", "typed", "--image=busybox", "--schedule=*/1 * * * *", "--", "date")
    rows = lines(k("get", "cronjob", "-n", "typed").stdout)
    assert rows[0][:3] == ["NAME", "SCHEDULE", "TIMEZONE"] and rows[1][:3] == ["tick", "*/1", "*"]
    k("create", "quota", "small", "-n", "typed", "--hard=pods=10,cpu=2")
    assert json.loads(k("get", "quota", "small", "-n", "typed", "-o", "json").stdout)["spec"]["hard"] == {"cpu": "2", "pods": "10"}

    dup = k("create", "namespace", "typed", check=False)
    assert dup.stderr.strip() == 'Error from server (AlreadyExists): namespaces "typed" already exists'
    bad = k("create", "configmap", "Bad", "-n", "typed", check=False)
    assert bad.stderr.startswith('error: failed to create configmap: ConfigMap "Bad" is invalid: metadata.name: Invalid value: "Bad": a lowercase RFC 1123 subdomain')
    k("delete", "namespace", "typed", "--wait=false")


def test_custom_resource_served_with_printer_columns(cluster, ns):
    cluster.kubectl("apply", "-f", "-", input=CRD)
    cluster.kubectl("wait", "--for", "condition=established", "crd/gadgets.example.com", "--timeout=20s")
    assert "gadget.example.com/g1 created" in cluster.kubectl("apply", "-n", ns, "-f", "-", input=GADGET).stdout
    rows = lines(cluster.kubectl("get", "gd", "-n", ns).stdout)
    assert rows[0] == ["NAME", "SIZE"] and rows[1] == ["g1", "3"]
    bad = cluster.kubectl("apply", "-n", ns, "-f", "-", input=GADGET.replace("size: 3", "size: big"), check=False)
    assert bad.returncode != 0 and "spec.size" in bad.stderr and "must be of type integer" in bad.stderr


def test_deprecated_custom_resource_version_warns(cluster, ns):
    version = lambda name, **extra: {"name": name, "served": True, "storage": name == "v1", **extra,
                                     "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}}
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": "sprockets.example.com"},
           "spec": {"group": "example.com", "scope": "Namespaced", "names": {"plural": "sprockets", "kind": "Sprocket"},
                    "versions": [version("v1beta1", deprecated=True, deprecationWarning="example.com/v1beta1 Sprocket is old; use example.com/v1"),
                                 version("v1alpha1", deprecated=True), version("v1")]}}
    cluster.kubectl("apply", "-f", "-", input=json.dumps(crd))
    cluster.kubectl("wait", "--for", "condition=established", "crd/sprockets.example.com", "--timeout=20s")
    said = lambda v: cluster.kubectl("get", f"sprockets.{v}.example.com", "-n", ns).stderr.strip().splitlines()
    found = f"No resources found in {ns} namespace."
    assert said("v1beta1") == ["Warning: example.com/v1beta1 Sprocket is old; use example.com/v1", found]
    assert said("v1alpha1") == ["Warning: example.com/v1alpha1 Sprocket is deprecated", found]
    assert said("v1") == [found]


def test_label_annotate_replace_scale(cluster, ns):
    cluster.kubectl("create", "-n", ns, "-f", "-", input=APP)
    assert cluster.kubectl("label", "cm", "settings", "-n", ns, "tier=front").stdout.strip() == "configmap/settings labeled"
    refused = cluster.kubectl("label", "cm", "settings", "-n", ns, "app=other", check=False)
    assert refused.returncode != 0
    assert refused.stderr.strip() == "error: 'app' already has a value (web), and --overwrite is false"
    cluster.kubectl("label", "cm", "settings", "-n", ns, "app=other", "--overwrite")
    cluster.kubectl("annotate", "cm", "settings", "-n", ns, "note=one")
    cluster.kubectl("annotate", "cm", "settings", "-n", ns, "note=two", "--overwrite")
    cm = json.loads(cluster.kubectl("get", "cm", "settings", "-n", ns, "-o", "json").stdout)
    assert cm["metadata"]["labels"] == {"app": "other", "tier": "front"}
    assert cm["metadata"]["annotations"]["note"] == "two"

    cm["data"]["mode"] = "slow"
    assert cluster.kubectl("replace", "-f", "-", input=json.dumps(cm)).stdout.strip() == "configmap/settings replaced"
    stale = cluster.kubectl("replace", "-f", "-", input=json.dumps(cm), check=False)
    assert stale.returncode != 0
    assert stale.stderr.strip().startswith("Error from server (Conflict): error when replacing")
    assert 'Operation cannot be fulfilled on configmaps "settings": the object has been modified; please apply your changes to the latest version and try again' in stale.stderr

    assert cluster.kubectl("scale", "deployment/web", "-n", ns, "--replicas=3").stdout.strip() == "deployment.apps/web scaled"
    assert cluster.kubectl("get", "deploy", "web", "-n", ns, "-o", "jsonpath={.spec.replicas}").stdout == "3"
    assert cluster.kubectl("get", "deploy", "web", "-n", ns, "-o", "jsonpath={.metadata.generation}").stdout == "2"


def test_delete_by_name_label_all_and_namespace(cluster):
    cluster.kubectl("create", "-f", "-", input="apiVersion: v1\nkind: Namespace\nmetadata: {name: doomed}\n")
    for i in range(4):
        cluster.kubectl("create", "-n", "doomed", "-f", "-",
                        input=f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i}, labels: {{grp: '{i % 2}'}}}}\n")
    out = cluster.kubectl("delete", "cm", "c0", "-n", "doomed").stdout.strip()
    assert out.startswith('configmap "c0" deleted')
    assert "c2" in cluster.kubectl("delete", "cm", "-l", "grp=0", "-n", "doomed").stdout
    cluster.kubectl("create", "-n", "doomed", "-f", "-", input="apiVersion: v1\nkind: ConfigMap\nmetadata: {name: keep}\n")
    cluster.kubectl("delete", "cm", "--all", "-n", "doomed")
    # All gone, and the CA bundle every namespace has is published again, as on a real cluster.
    for _ in range(100):
        left = cluster.kubectl("get", "cm", "-n", "doomed", "-o", "name").stdout.split()
        if left == ["configmap/kube-root-ca.crt"]:
            break
        time.sleep(0.05)
    assert left == ["configmap/kube-root-ca.crt"]
    cluster.kubectl("create", "-n", "doomed", "-f", "-", input="apiVersion: v1\nkind: ConfigMap\nmetadata: {name: inside}\n")
    cluster.kubectl("delete", "namespace", "doomed", "--wait=false")
    cluster.kubectl("wait", "--for=delete", "namespace/doomed", "--timeout=30s")
    gone = cluster.kubectl("get", "ns", "doomed", check=False)
    assert gone.returncode != 0 and gone.stderr.strip() == 'Error from server (NotFound): namespaces "doomed" not found'


def test_get_watch_prints_events_as_they_happen(cluster, ns):
    env_cmd = ["kubectl", "get", "configmaps", "-n", ns, "-w", "--output-watch-events"]
    import os
    watcher = subprocess.Popen(env_cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=dict(os.environ, KUBECONFIG=cluster.kubeconfig))
    try:
        time.sleep(1)
        cluster.kubectl("create", "-n", ns, "-f", "-", input="apiVersion: v1\nkind: ConfigMap\nmetadata: {name: w}\ndata: {a: b}\n")
        cluster.kubectl("label", "cm", "w", "-n", ns, "x=y")
        cluster.kubectl("delete", "cm", "w", "-n", ns)
        time.sleep(1)
    finally:
        watcher.terminate()
    out = watcher.communicate(timeout=10)[0]
    rows = lines(out)
    assert rows[0] == ["EVENT", "NAME", "DATA", "AGE"]
    assert [r[0] for r in rows[1:] if r[1] == "w"] == ["ADDED", "MODIFIED", "DELETED"]


def test_wait_for_delete_and_server_dry_run(cluster, ns):
    cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dry}\n"
    out = cluster.kubectl("create", "-n", ns, "--dry-run=server", "-f", "-", input=cm).stdout.strip()
    assert out == "configmap/dry created (server dry run)"
    missing = cluster.kubectl("get", "cm", "dry", "-n", ns, check=False)
    assert missing.stderr.strip() == 'Error from server (NotFound): configmaps "dry" not found'
    cluster.kubectl("create", "-n", ns, "-f", "-", input=cm)
    waiter = subprocess.Popen(["kubectl", "wait", "--for=delete", "cm/dry", "-n", ns, "--timeout=30s"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env={**__import__("os").environ, "KUBECONFIG": cluster.kubeconfig})
    time.sleep(1)
    cluster.kubectl("delete", "cm", "dry", "-n", ns, "--wait=false")
    assert waiter.wait(timeout=30) == 0
    assert "condition met" in waiter.stdout.read()


def test_describe_pod_and_deployment_with_events(cluster, ns):
    pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p1, labels: {app: p}}\nspec:\n  containers: [{name: c, image: busybox}]\n"
    cluster.kubectl("create", "-n", ns, "-f", "-", input=pod)
    cluster.kubectl("create", "-n", ns, "-f", "-", input=APP.split("---")[0])
    uid = cluster.kubectl("get", "pod", "p1", "-n", ns, "-o", "jsonpath={.metadata.uid}").stdout
    for kind, name, obj_uid, reason in [("Pod", "p1", uid, "Scheduled"), ("Deployment", "web", None, "ScalingReplicaSet")]:
        if obj_uid is None:
            obj_uid = cluster.kubectl("get", "deploy", name, "-n", ns, "-o", "jsonpath={.metadata.uid}").stdout
        event = {
            "apiVersion": "v1", "kind": "Event", "metadata": {"name": f"{name}.1"},
            "involvedObject": {"kind": kind, "name": name, "namespace": ns, "uid": obj_uid,
                               "apiVersion": "v1" if kind == "Pod" else "apps/v1"},
            "reason": reason, "message": f"{reason} happened", "type": "Normal",
            "source": {"component": "test"}, "count": 1,
            "firstTimestamp": "2024-01-01T00:00:00Z", "lastTimestamp": "2024-01-01T00:00:00Z",
        }
        cluster.kubectl("create", "-n", ns, "-f", "-", input=json.dumps(event))
    pod_out = cluster.kubectl("describe", "pod", "p1", "-n", ns).stdout
    assert re.search(r"^Name:\s+p1$", pod_out, re.M) and re.search(r"^Status:\s+(Pending|Running)$", pod_out, re.M)
    assert "Scheduled" in pod_out.split("Events:")[1] and "Scheduled happened" in pod_out
    dep_out = cluster.kubectl("describe", "deployment", "web", "-n", ns).stdout
    assert re.search(r"^StrategyType:\s+RollingUpdate$", dep_out, re.M)
    assert "ScalingReplicaSet happened" in dep_out.split("Events:")[1]


def test_errors_read_as_on_a_real_cluster(cluster, ns):
    bad = cluster.kubectl("create", "-f", "-", input="apiVersion: v1\nkind: Namespace\nmetadata: {name: Bad_Name}\n", check=False)
    assert bad.returncode != 0
    assert ('The Namespace "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 label must '
            "consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character "
            "(e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')") in bad.stderr

    missing_ns = cluster.kubectl("get", "cm", "-n", "nope", "x", check=False)
    # kubectl 1.37 looks the namespace up after a NotFound and names it instead.
    assert missing_ns.stderr.strip() == 'Error from server (NotFound): namespaces "nope" not found'
    into_missing = cluster.kubectl("create", "-n", "nope", "-f", "-", input="apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n", check=False)
    assert into_missing.returncode != 0 and 'namespaces "nope" not found' in into_missing.stderr

    unknown = cluster.kubectl("get", "foos", check=False)
    assert unknown.stderr.strip() == 'error: the server doesn\'t have a resource type "foos"'
    unknown_kind = cluster.kubectl("create", "-f", "-", input="apiVersion: example.com/v1\nkind: Foo\nmetadata: {name: f}\n", check=False)
    assert unknown_kind.returncode != 0
    assert 'no matches for kind "Foo" in version "example.com/v1"' in unknown_kind.stderr

    cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: twice}\n"
    cluster.kubectl("create", "-n", ns, "-f", "-", input=cm)
    dup = cluster.kubectl("create", "-n", ns, "-f", "-", input=cm, check=False)
    assert dup.returncode != 0
    assert dup.stderr.strip() == 'Error from server (AlreadyExists): error when creating "STDIN": configmaps "twice" already exists'

    invalid_pod = cluster.kubectl("create", "-n", ns, "-f", "-", check=False,
                                  input="apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c}]\n")
    assert 'The Pod "p" is invalid: spec.containers[0].image: Required value' in invalid_pod.stderr


def test_writes_record_their_manager_in_managed_fields(cluster, ns):
    k = cluster.kubectl
    k("create", "configmap", "owned", "-n", ns, "--from-literal=a=1")
    k("label", "cm", "owned", "-n", ns, "tier=web")
    cm = json.loads(k("get", "cm", "owned", "-n", ns, "-o", "json", "--show-managed-fields").stdout)
    entries = {e["manager"]: e for e in cm["metadata"]["managedFields"]}
    assert set(entries) == {"kubectl-create", "kubectl-label"}
    assert entries["kubectl-create"]["operation"] == "Update" and entries["kubectl-create"]["apiVersion"] == "v1"
    assert entries["kubectl-create"]["fieldsV1"] == {"f:data": {".": {}, "f:a": {}}}
    assert entries["kubectl-label"]["fieldsV1"] == {"f:metadata": {"f:labels": {".": {}, "f:tier": {}}}}
    rv = cm["metadata"]["resourceVersion"]
    k("label", "cm", "owned", "-n", ns, "tier=web", "--overwrite")
    assert k("get", "cm", "owned", "-n", ns, "-o", "jsonpath={.metadata.resourceVersion}").stdout == rv, "a no-op write is not recorded"

    k("create", "deployment", "managed", "-n", ns, "--image=nginx:1.27")
    k("scale", "deployment", "managed", "-n", ns, "--replicas=2")
    dep = json.loads(k("get", "deploy", "managed", "-n", ns, "-o", "json", "--show-managed-fields").stdout)
    scale = [e for e in dep["metadata"]["managedFields"] if e.get("subresource") == "scale"]
    assert len(scale) == 1 and scale[0]["fieldsV1"] == {"f:spec": {"f:replicas": {}}}
    create = next(e for e in dep["metadata"]["managedFields"] if e["manager"] == "kubectl-create")
    assert "f:replicas" not in create["fieldsV1"]["f:spec"], "the scaler took replicas over"
    assert 'k:{"name":"nginx"}' in create["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]
    assert "managedFields" not in k("get", "cm", "owned", "-n", ns, "-o", "yaml").stdout


def test_a_simulated_pod_says_it_is_simulated(cluster):
    cluster.kubectl("run", "sim-logs", "--image=nginx")
    cluster.kubectl("wait", "--for=condition=Ready", "pod/sim-logs", "--timeout=60s")
    out = cluster.kubectl("logs", "sim-logs")
    assert out.stdout.count("\n") == 1 and "simulated" in out.stdout and out.returncode == 0
    # exec and port-forward have no process to reach: refused, naming the driver.
    r = cluster.kubectl("exec", "sim-logs", "--", "true", check=False)
    assert r.returncode == 1 and 'cannot exec into pod "sim-logs": it is simulated' in r.stderr and "--driver=containerd" in r.stderr, r.stderr
    r = cluster.kubectl("port-forward", "pod/sim-logs", f"{free_port()}:80", check=False)
    assert r.returncode == 1 and 'cannot forward ports to pod "sim-logs": it is simulated' in r.stderr, r.stderr
    cluster.kubectl("delete", "pod", "sim-logs", "--wait=false")


def test_apiservices_and_the_metrics_api_on_simulated_nodes(cluster):
    services = cluster.kubectl("get", "apiservices").stdout.splitlines()
    assert services[0].split() == ["NAME", "SERVICE", "AVAILABLE", "AGE"]
    rows = {line.split()[0]: line.split()[1:3] for line in services[1:]}
    for name in ("v1.", "v1.apps", "v1.batch", "v1beta1.metrics.k8s.io", "v1.apiregistration.k8s.io"):
        assert rows[name] == ["Local", "True"], rows
    resources = cluster.kubectl("api-resources", "--api-group=metrics.k8s.io").stdout
    assert "NodeMetrics" in resources and "PodMetrics" in resources
