"""The Python client (PyPI `kubernetes`) against localkube: create, select, page, watch, resume, 410, delete."""
import threading
import time

import pytest
from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException


def api_for(cluster):
    return client.CoreV1Api(config.new_client_from_config(config_file=cluster.kubeconfig))


def cm(name, labels=None):
    return client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name, labels=labels or {}), data={"k": name})


def test_create_list_with_selectors_and_delete(cluster, ns):
    api = api_for(cluster)
    for i in range(6):
        api.create_namespaced_config_map(ns, cm(f"c{i}", {"parity": "even" if i % 2 == 0 else "odd", "n": str(i)}))
    even = api.list_namespaced_config_map(ns, label_selector="parity=even")
    assert sorted(i.metadata.name for i in even.items) == ["c0", "c2", "c4"]
    some = api.list_namespaced_config_map(ns, label_selector="n in (1,2),parity!=odd")
    assert [i.metadata.name for i in some.items] == ["c2"]
    by_name = api.list_namespaced_config_map(ns, field_selector="metadata.name=c5")
    assert [i.metadata.name for i in by_name.items] == ["c5"]
    api.delete_namespaced_config_map("c0", ns)
    with pytest.raises(ApiException) as e:
        api.read_namespaced_config_map("c0", ns)
    assert e.value.status == 404


def test_pagination_is_consistent_across_pages(cluster, ns):
    api = api_for(cluster)
    # Every namespace gets kube-root-ca.crt from a controller: once it is there, 26 objects.
    for _ in range(100):
        if [i.metadata.name for i in api.list_namespaced_config_map(ns).items] == ["kube-root-ca.crt"]:
            break
        time.sleep(0.05)
    for i in range(25):
        api.create_namespaced_config_map(ns, cm(f"p{i:02d}"))
    first = api.list_namespaced_config_map(ns, limit=10)
    assert len(first.items) == 10 and first.metadata._continue
    assert first.metadata.remaining_item_count == 16
    # Written after the first page: the later pages must not show it.
    api.create_namespaced_config_map(ns, cm("p99-late"))
    names = [i.metadata.name for i in first.items]
    token = first.metadata._continue
    while token:
        page = api.list_namespaced_config_map(ns, limit=10, _continue=token)
        assert page.metadata.resource_version == first.metadata.resource_version
        names += [i.metadata.name for i in page.items]
        token = page.metadata._continue
    assert names == ["kube-root-ca.crt"] + [f"p{i:02d}" for i in range(25)]


def test_watch_sees_changes_and_resumes_from_a_resource_version(cluster, ns):
    api = api_for(cluster)
    created = api.create_namespaced_config_map(ns, cm("w"))
    rv0 = created.metadata.resource_version
    events = []

    def follow():
        w = watch.Watch()
        for e in w.stream(api.list_namespaced_config_map, ns, resource_version=rv0, timeout_seconds=10):
            events.append((e["type"], e["object"].metadata.name, e["object"].metadata.resource_version))
            if e["type"] == "DELETED":
                w.stop()

    t = threading.Thread(target=follow)
    t.start()
    time.sleep(0.5)
    modified = api.patch_namespaced_config_map("w", ns, {"data": {"k": "changed"}})
    api.delete_namespaced_config_map("w", ns)
    t.join(15)
    assert [(k, n) for k, n, _ in events] == [("MODIFIED", "w"), ("DELETED", "w")]
    assert events[0][2] == modified.metadata.resource_version

    # Resuming from the MODIFIED event's version replays only what came after it.
    resumed = []
    w = watch.Watch()
    for e in w.stream(api.list_namespaced_config_map, ns, resource_version=modified.metadata.resource_version, timeout_seconds=2):
        resumed.append(e["type"])
        w.stop()
    assert resumed == ["DELETED"]


def test_watch_from_compacted_history_is_gone(fresh_cluster):
    c = fresh_cluster(extra=["--compaction-interval", "1"])
    api = api_for(c)
    first = api.create_namespaced_config_map("default", cm("old"))
    for i in range(3):
        api.patch_namespaced_config_map("old", "default", {"data": {"k": str(i)}})
    time.sleep(2.5)  # two compactions: the first write's revision is gone
    api.patch_namespaced_config_map("old", "default", {"data": {"k": "later"}})
    with pytest.raises(ApiException) as e:
        for _ in watch.Watch().stream(api.list_namespaced_config_map, "default",
                                       resource_version=first.metadata.resource_version, timeout_seconds=5):
            pass
    assert e.value.status == 410


def test_patches_and_server_side_apply_give_what_kubectl_gives(cluster, ns, tmp_path):
    from kubernetes import dynamic
    api_client = config.new_client_from_config(config_file=cluster.kubeconfig)
    apps = client.AppsV1Api(api_client)
    manifest = {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "py", "labels": {"app": "py"}},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "py"}}, "template": {
            "metadata": {"labels": {"app": "py"}},
            "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}, {"name": "side", "image": "busybox:1.36"}]}}},
    }
    apps.create_namespaced_deployment(ns, manifest)
    # The client sends a dict body as a strategic merge patch: containers merge by name.
    apps.patch_namespaced_deployment("py", ns, {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.28"}]}}}})
    apps.patch_namespaced_deployment("py", ns, [{"op": "replace", "path": "/spec/replicas", "value": 2}])
    dep = apps.read_namespaced_deployment("py", ns)
    assert [(c.name, c.image) for c in dep.spec.template.spec.containers] == [("web", "nginx:1.28"), ("side", "busybox:1.36")]
    assert dep.spec.replicas == 2

    # Its discovery cache in the test's folder, not the machine's /tmp (the default).
    deployments = dynamic.DynamicClient(api_client, cache_file=str(tmp_path / "discovery.json")).resources.get(api_version="apps/v1", kind="Deployment")
    applied = dict(manifest, metadata={"name": "py-ssa", "namespace": ns})
    created = deployments.server_side_apply(body=applied, namespace=ns, field_manager="python")
    assert created.spec.replicas == 1
    mine = [e for e in created.metadata.managedFields if e.manager == "python"]
    assert len(mine) == 1 and mine[0].operation == "Apply"
    with pytest.raises(ApiException) as e:
        deployments.server_side_apply(body=dict(applied, spec=dict(manifest["spec"], replicas=3)), namespace=ns, field_manager="other")
    assert e.value.status == 409
    forced = deployments.server_side_apply(body=dict(applied, spec=dict(manifest["spec"], replicas=3)), namespace=ns,
                                           field_manager="other", force_conflicts=True)
    assert forced.spec.replicas == 3

    # The same apply from kubectl gives the same object.
    import json, yaml
    twin = dict(applied, metadata={"name": "py-ssa-kubectl", "namespace": ns})
    cluster.kubectl("apply", "--server-side", "--field-manager=python", "-f", "-", input=yaml.safe_dump(twin))
    by_kubectl = json.loads(cluster.kubectl("get", "deploy", "py-ssa-kubectl", "-n", ns, "-o", "json").stdout)
    by_python = created.to_dict()
    assert by_kubectl["spec"] == by_python["spec"]
    # The apply's own entry; the controllers' (status, revision annotation) come and go with timing.
    fields = lambda obj: [(e["manager"], e["operation"], e["fieldsV1"]) for e in obj["metadata"]["managedFields"]
                          if e["manager"] == "python"]
    by_kubectl_managed = json.loads(cluster.kubectl("get", "deploy", "py-ssa-kubectl", "-n", ns, "-o", "json", "--show-managed-fields").stdout)
    assert fields(by_kubectl_managed) == fields(by_python)
