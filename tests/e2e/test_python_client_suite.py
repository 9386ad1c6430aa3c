"""What the official Python client's own end-to-end suite (kubernetes-client/python e2e_test: test_utils,
test_apps, test_batch, test_watch, test_informer, test_client's service, configmap, replication controller
and node tests) checks that needs no container runtime, written here against Cubby's simulated nodes:
create_from_yaml in all its forms with upstream's exact conflict text, typed reads and deletes, watches,
the client's SharedInformer, and the metrics utilities."""
import tempfile
import threading
import time

import pytest
import yaml
from kubernetes import client, config, utils, watch
from kubernetes.client.rest import ApiException
from kubernetes.informer import ADDED, DELETED, MODIFIED, SharedInformer

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: web, image: nginx:1.27, ports: [{containerPort: 80}]}
"""

SERVICE = """apiVersion: v1
kind: Service
metadata: {name: %(name)s, labels: {app: %(name)s}}
spec:
  selector: {app: %(name)s}
  ports: [{name: main, port: %(port)d, targetPort: 9376}]
"""


@pytest.fixture(autouse=True)
def discovery_cache_in_test_folder(tmp_path, monkeypatch):
    """create_from_yaml(apply=True) makes a DynamicClient, whose discovery cache goes to the temp folder:
    the test's own, so no osrcp-*.json is left in /tmp."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))


@pytest.fixture
def api(cluster):
    c = config.new_client_from_config(config_file=cluster.kubeconfig)
    yield c
    c.close()


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def until(predicate, timeout=30, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_create_from_yaml_makes_every_kind_and_typed_reads_decode(api, ns, tmp_path):
    documents = "---\n".join([
        DEPLOYMENT,
        SERVICE % {"name": "front", "port": 80},
        "apiVersion: v1\nkind: Pod\nmetadata: {name: solo, labels: {app: solo}}\n"
        "spec: {containers: [{name: c, image: busybox, command: [sleep, '3600']}]}\n",
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: reader}\n"
        "rules: [{apiGroups: [''], resources: [pods], verbs: [get, watch, list]}]\n",
    ])
    created = utils.create_from_yaml(api, write(tmp_path, "all.yaml", documents), namespace=ns)
    assert [type(o[0]).__name__ for o in created] == ["V1Deployment", "V1Service", "V1Pod", "V1Role"]
    apps, core, rbac = client.AppsV1Api(api), client.CoreV1Api(api), client.RbacAuthorizationV1Api(api)
    dep = apps.read_namespaced_deployment("web", ns)
    assert (dep.spec.replicas, dep.spec.template.spec.containers[0].ports[0].container_port) == (2, 80)
    assert core.read_namespaced_service("front", ns).spec.ports[0].target_port == 9376
    assert core.read_namespaced_pod("solo", ns).spec.containers[0].command == ["sleep", "3600"]
    assert rbac.read_namespaced_role("reader", ns).rules[0].verbs == ["get", "watch", "list"]
    # apply=True is server-side apply by the client's field manager: the same manifest again changes no spec.
    for _ in range(2):
        utils.create_from_yaml(api, write(tmp_path, "dep.yaml", DEPLOYMENT), namespace=ns, apply=True)
    dep = apps.read_namespaced_deployment("web", ns)
    assert dep.spec.replicas == 2 and dep.metadata.generation == 1
    assert [m.operation for m in dep.metadata.managed_fields if m.manager == "python-client"] == ["Apply"]

def test_create_from_dicts_lists_and_directories(api, ns, tmp_path):
    core = client.CoreV1Api(api)
    # A dict, and a yaml_objects list.
    utils.create_from_dict(api, yaml.safe_load(SERVICE % {"name": "from-dict", "port": 81}), namespace=ns)
    utils.create_from_yaml(api, yaml_objects=[yaml.safe_load(SERVICE % {"name": "from-objects", "port": 82})], namespace=ns)
    # A general List holding two kinds; a NamespaceList.
    listed = {"apiVersion": "v1", "kind": "List", "items": [
        yaml.safe_load(SERVICE % {"name": "in-list", "port": 83}),
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "in-list"}, "data": {"k": "v"}}]}
    utils.create_from_yaml(api, write(tmp_path, "list.yaml", yaml.safe_dump(listed)), namespace=ns)
    spaces = {"apiVersion": "v1", "kind": "NamespaceList", "items": [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": f"{ns}-a"[:63]}},
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": f"{ns}-b"[:63]}}]}
    utils.create_from_yaml(api, write(tmp_path, "spaces.yaml", yaml.safe_dump(spaces)))
    try:
        assert {core.read_namespace(n["metadata"]["name"]).status.phase for n in spaces["items"]} == {"Active"}
    finally:
        for n in spaces["items"]:
            core.delete_namespace(n["metadata"]["name"])
    # A directory of files, one holding a ReplicationController.
    d = tmp_path / "dir"
    d.mkdir()
    write(d, "svc.yaml", SERVICE % {"name": "from-dir", "port": 84})
    write(d, "rc.yaml", "apiVersion: v1\nkind: ReplicationController\nmetadata: {name: from-dir}\nspec:\n"
          "  replicas: 1\n  selector: {app: from-dir}\n  template:\n    metadata: {labels: {app: from-dir}}\n"
          "    spec: {containers: [{name: c, image: busybox}]}\n")
    utils.create_from_directory(api, str(d), namespace=ns)
    names = sorted(s.metadata.name for s in core.list_namespaced_service(ns).items)
    assert names == ["from-dict", "from-dir", "from-objects", "in-list"]
    assert core.read_namespaced_config_map("in-list", ns).data == {"k": "v"}
    assert core.read_namespaced_replication_controller("from-dir", ns).spec.replicas == 1


def test_create_from_yaml_conflicts_read_as_upstream_words_them(api, ns, tmp_path):
    # Each refused document adds kubectl's line and the Status body, byte for byte; the others are created.
    utils.create_from_yaml(api, write(tmp_path, "first.yaml", SERVICE % {"name": "dup", "port": 99}), namespace=ns)
    rc = ("apiVersion: v1\nkind: ReplicationController\nmetadata: {name: dup}\nspec:\n  replicas: 0\n"
          "  selector: {app: dup}\n  template:\n    metadata: {labels: {app: dup}}\n    spec: {containers: [{name: c, image: busybox}]}\n")
    with pytest.raises(utils.FailToCreateError) as e:
        utils.create_from_yaml(api, write(tmp_path, "multi.yaml", (SERVICE % {"name": "dup", "port": 99}) + "---\n" + rc), namespace=ns)
    assert str(e.value) == ('Error from server (Conflict): {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'
                            '"message":"services \\"dup\\" already exists","reason":"AlreadyExists",'
                            '"details":{"name":"dup","kind":"services"},"code":409}\n')
    assert client.CoreV1Api(api).read_namespaced_replication_controller("dup", ns).metadata.name == "dup"

    with pytest.raises(utils.FailToCreateError) as e:
        utils.create_from_yaml(api, write(tmp_path, "triple.yaml", "---\n".join([DEPLOYMENT] * 3)), namespace=ns)
    one = ('Error from server (Conflict): {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'
           '"message":"deployments.apps \\"web\\" already exists","reason":"AlreadyExists",'
           '"details":{"name":"web","group":"apps","kind":"deployments"},"code":409}\n')
    assert str(e.value) == one + one

    # A cluster-scoped kind of another group: an APIService.
    service = {"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
               "metadata": {"name": f"v1alpha1.{ns}.example.com"},
               "spec": {"group": f"{ns}.example.com", "version": "v1alpha1", "groupPriorityMinimum": 1000,
                        "versionPriority": 15, "service": {"name": "api", "namespace": ns}, "insecureSkipTLSVerify": True}}
    path = write(tmp_path, "apiservice.yaml", yaml.safe_dump(service))
    utils.create_from_yaml(api, path)
    registration = client.ApiregistrationV1Api(api)
    try:
        read = registration.read_api_service(service["metadata"]["name"])
        assert (read.spec.group, read.spec.version) == (f"{ns}.example.com", "v1alpha1")
        with pytest.raises(utils.FailToCreateError) as e:
            utils.create_from_yaml(api, path)
        name = service["metadata"]["name"]
        assert str(e.value) == ('Error from server (Conflict): {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'
                                f'"message":"apiservices.apiregistration.k8s.io \\"{name}\\" already exists","reason":"AlreadyExists",'
                                f'"details":{{"name":"{name}","group":"apiregistration.k8s.io","kind":"apiservices"}},"code":409}}\n')
    finally:
        registration.delete_api_service(service["metadata"]["name"])


def test_apps_and_batch_objects_read_back_and_delete(api, ns):
    apps, batch = client.AppsV1Api(api), client.BatchV1Api(api)
    apps.create_namespaced_deployment(ns, yaml.safe_load(DEPLOYMENT))
    dep = apps.read_namespaced_deployment("web", ns)
    assert dep.spec.selector.match_labels == {"app": "web"} and dep.spec.template.spec.containers[0].image == "nginx:1.27"
    deleted = apps.delete_namespaced_deployment("web", ns, body=client.V1DeleteOptions())
    assert (deleted["kind"], deleted["status"], deleted["details"]["name"]) == ("Status", "Success", "web")

    daemon = {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent", "labels": {"app": "agent"}},
              "spec": {"selector": {"matchLabels": {"app": "agent"}}, "updateStrategy": {"type": "RollingUpdate"},
                       "template": {"metadata": {"labels": {"app": "agent"}},
                                    "spec": {"containers": [{"name": "agent", "image": "busybox"}]}}}}
    apps.create_namespaced_daemon_set(ns, daemon)
    ds = apps.read_namespaced_daemon_set("agent", ns)
    assert ds.spec.update_strategy.rolling_update.max_unavailable == 1 and ds.spec.template.spec.containers[0].name == "agent"
    apps.delete_namespaced_daemon_set("agent", ns, body=client.V1DeleteOptions())

    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "once"},
           "spec": {"template": {"metadata": {"name": "once"}, "spec": {"restartPolicy": "Never", "containers": [
               {"name": "once", "image": "busybox", "command": ["sh", "-c", "sleep 5"]}]}}}}
    assert batch.create_namespaced_job(ns, job).metadata.name == "once"
    read = batch.read_namespaced_job("once", ns)
    assert read.spec.template.spec.containers[0].command == ["sh", "-c", "sleep 5"] and read.spec.template.spec.restart_policy == "Never"
    # Deleted at once (its pods go in the background): a Success Status naming it, as upstream answers.
    deleted = batch.delete_namespaced_job("once", ns, body={"propagationPolicy": "Background"})
    assert (deleted["kind"], deleted["status"], deleted["details"]["name"], deleted["details"]["group"]) == ("Status", "Success", "once", "batch")


def test_services_config_maps_controllers_and_nodes_as_the_client_suite_uses_them(api, ns):
    core = client.CoreV1Api(api)
    svc = core.create_namespaced_service(ns, yaml.safe_load(SERVICE % {"name": "frontend", "port": 80}))
    assert svc.spec.cluster_ip and svc.spec.type == "ClusterIP" and svc.spec.session_affinity == "None"
    patched = core.patch_namespaced_service("frontend", ns, {"spec": {"ports": [{"port": 8080, "targetPort": 9376, "name": "alt"}]}})
    # A dict patch goes as a strategic merge patch: ports merge by port.
    assert [p.port for p in patched.spec.ports] == [80, 8080]
    assert isinstance(core.delete_namespaced_service("frontend", ns), client.V1Service)

    cm = core.create_namespaced_config_map(ns, {"metadata": {"name": "settings", "labels": {"e2e-tests": "true"}},
                                                "data": {"config.json": '{"command":"/usr/bin/mysqld_safe"}', "frontend.cnf": "[mysqld]\nbind-address = 10.0.0.3\n"}})
    assert cm.data["frontend.cnf"].endswith("10.0.0.3\n")
    core.patch_namespaced_config_map("settings", ns, {"data": {"config.json": "{}"}})
    assert core.read_namespaced_config_map("settings", ns).data["config.json"] == "{}"
    assert [c.metadata.name for c in core.list_namespaced_config_map(ns, label_selector="e2e-tests=true").items] == ["settings"]
    core.delete_namespaced_config_map("settings", ns)
    assert core.list_namespaced_config_map(ns, label_selector="e2e-tests=true").items == []

    rc = core.create_namespaced_replication_controller(ns, {"metadata": {"name": "frontend"}, "spec": {
        "replicas": 2, "selector": {"name": "frontend"},
        "template": {"metadata": {"labels": {"name": "frontend"}}, "spec": {"containers": [{"name": "nginx", "image": "nginx"}]}}}})
    assert rc.spec.replicas == 2 and rc.spec.template.spec.containers[0].image == "nginx"
    core.delete_namespaced_replication_controller("frontend", ns, propagation_policy="Background")

    nodes = core.list_node().items
    assert nodes and all(n.status.node_info.kubelet_version for n in nodes)
    one = core.read_node(nodes[0].metadata.name)
    core.patch_node(one.metadata.name, {"metadata": {"labels": {"e2e-suite": "visited"}}})
    assert core.read_node(one.metadata.name).metadata.labels["e2e-suite"] == "visited"
    core.patch_node(one.metadata.name, {"metadata": {"labels": {"e2e-suite": None}}})


def test_watch_of_config_maps_sees_each_change_in_order(api, ns):
    core = client.CoreV1Api(api)
    rv = core.list_namespaced_config_map(ns).metadata.resource_version
    core.create_namespaced_config_map(ns, {"metadata": {"name": "watched"}, "data": {"n": "0"}})
    for n in range(1, 4):
        core.patch_namespaced_config_map("watched", ns, {"data": {"n": str(n)}})
    core.delete_namespaced_config_map("watched", ns)
    seen = []
    w = watch.Watch()
    # Only the watched object: a controller may publish the namespace's kube-root-ca.crt meanwhile.
    for event in w.stream(core.list_namespaced_config_map, ns, resource_version=rv, timeout_seconds=10,
                          field_selector="metadata.name=watched"):
        seen.append((event["type"], event["object"].data.get("n") if event["object"].data else None))
        if event["type"] == "DELETED":
            w.stop()
    assert seen == [("ADDED", "0"), ("MODIFIED", "1"), ("MODIFIED", "2"), ("MODIFIED", "3"), ("DELETED", "3")]


def test_shared_informer_keeps_its_cache_with_the_cluster(api, ns):
    core = client.CoreV1Api(api)
    core.create_namespaced_config_map(ns, {"metadata": {"name": "before", "labels": {"informed": "yes"}}, "data": {"k": "v"}})
    events = {ADDED: [], MODIFIED: [], DELETED: []}
    lock = threading.Lock()

    def recorder(kind):
        def record(obj):
            with lock:
                events[kind].append((obj.metadata.name, dict(obj.data or {})))
        return record

    informer = SharedInformer(list_func=core.list_namespaced_config_map, namespace=ns,
                              label_selector="informed=yes", resync_period=2)
    for kind in events:
        informer.add_event_handler(kind, recorder(kind))
    informer.start()
    try:
        # The initial list fills the cache and announces what exists.
        until(lambda: informer.cache.get_by_key(f"{ns}/before") is not None, what="initial list in the cache")
        until(lambda: ("before", {"k": "v"}) in events[ADDED], what="ADDED for the listed object")
        first_rv = informer._resource_version
        core.create_namespaced_config_map(ns, {"metadata": {"name": "after", "labels": {"informed": "yes"}}, "data": {"k": "1"}})
        until(lambda: informer.cache.get_by_key(f"{ns}/after") is not None, what="created object in the cache")
        core.patch_namespaced_config_map("after", ns, {"data": {"k": "2"}})
        until(lambda: informer.cache.get_by_key(f"{ns}/after").data == {"k": "2"}, what="updated object in the cache")
        assert ("after", {"k": "2"}) in events[MODIFIED]
        assert int(informer._resource_version) > int(first_rv)
        core.delete_namespaced_config_map("after", ns)
        until(lambda: informer.cache.get_by_key(f"{ns}/after") is None, what="deleted object gone from the cache")
        assert ("after", {"k": "2"}) in events[DELETED]
        # Resync re-announces what the cache holds, as MODIFIED, without a change on the server.
        with lock:
            events[MODIFIED].clear()
        until(lambda: ("before", {"k": "v"}) in events[MODIFIED], what="a resync")
        # An object outside the selector never reaches the cache.
        core.create_namespaced_config_map(ns, {"metadata": {"name": "other"}})
        time.sleep(1)
        assert informer.cache.get_by_key(f"{ns}/other") is None
    finally:
        informer.stop()


def test_metrics_utilities_read_simulated_usage(api, ns):
    core = client.CoreV1Api(api)
    core.create_namespaced_pod(ns, {"metadata": {"name": "measured", "labels": {"app": "measured"},
                                                 "annotations": {"cubby.dev/simulated-usage-cpu": "250m",
                                                                 "cubby.dev/simulated-usage-memory": "64Mi"}},
                                    "spec": {"containers": [{"name": "c", "image": "busybox"}]}})
    core.create_namespaced_pod(ns, {"metadata": {"name": "asks", "labels": {"app": "asks"}},
                                    "spec": {"containers": [{"name": "c", "image": "busybox",
                                                             "resources": {"requests": {"cpu": "100m", "memory": "32Mi"}}}]}})
    until(lambda: all(core.read_namespaced_pod(n, ns).status.phase == "Running" for n in ("measured", "asks")), what="pods running")
    nodes = utils.get_nodes_metrics(api)
    assert nodes["items"] and {"cpu", "memory"} <= set(nodes["items"][0]["usage"])
    pods = {p["metadata"]["name"]: p["containers"][0]["usage"] for p in utils.get_pods_metrics(api, ns)["items"]}
    assert pods == {"measured": {"cpu": "250000000n", "memory": "65536Ki"}, "asks": {"cpu": "100000000n", "memory": "32768Ki"}}
    only = utils.get_pods_metrics(api, ns, "app=measured")["items"]
    assert [p["metadata"]["name"] for p in only] == ["measured"]
    spread = utils.get_pods_metrics_in_all_namespaces(api, [ns, "default"])
    assert "error" not in spread[ns] and len(spread[ns]["items"]) == 2
    # A node's usage is its pods' together: the node that runs "measured" uses at least its 250m.
    node = core.read_namespaced_pod("measured", ns).spec.node_name
    usage = next(n["usage"] for n in nodes["items"] if n["metadata"]["name"] == node)
    assert int(usage["cpu"].rstrip("n")) >= 250_000_000
    assert usage["memory"].endswith("Ki")
