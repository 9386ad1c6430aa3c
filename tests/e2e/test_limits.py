"""The sizes upstream bounds, Cubby bounds with upstream's words: ConfigMap and Secret data, annotations, names and
labels, JSON patch operations, what the store takes in one write, and request bodies."""
import base64
import json
import ssl
import urllib.error
import urllib.request

MiB = 1024 * 1024

BLOBS = """apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: blobs.limits.example.com}
spec:
  group: limits.example.com
  scope: Namespaced
  names: {plural: blobs, singular: blob, kind: Blob}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, x-kubernetes-preserve-unknown-fields: true}
"""


def request(cluster, path, method="GET", body=None, content_type="application/json"):
    """One API request as the cluster's admin: the status code and the parsed body."""
    ctx = ssl.create_default_context(cafile=str(cluster.data_dir / "pki" / "ca.crt"))
    ctx.check_hostname = False
    token = (cluster.data_dir / "token").read_text().strip()
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
    req = urllib.request.Request(f"https://127.0.0.1:{cluster.port}{path}", method=method, data=body,
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": content_type})
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=60) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def create(cluster, ns, obj):
    """`kubectl create -f -` of `obj`, not checked."""
    return cluster.kubectl("create", "-n", ns, "-f", "-", input=json.dumps(obj), check=False)


def configmap(name, data=None, binary=None, **meta):
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, **meta}}
    if data is not None:
        cm["data"] = data
    if binary is not None:
        cm["binaryData"] = {k: base64.b64encode(v).decode() for k, v in binary.items()}
    return cm


def b64(n):
    return base64.b64encode(b"a" * n).decode()


def test_a_configmap_over_1_mib_of_data_is_refused(cluster, ns, tmp_path):
    big = tmp_path / "big"
    big.write_bytes(b"a" * (MiB + 10))
    refused = cluster.kubectl("create", "configmap", "big", "-n", ns, f"--from-file=x={big}", check=False)
    assert refused.returncode != 0
    # kubectl's typed create puts the server's message in words of its own.
    assert refused.stderr.strip() == ('error: failed to create configmap: '
                                      'ConfigMap "big" is invalid: []: Too long: may not be more than 1048576 bytes')
    refused = create(cluster, ns, configmap("big", {"x": "a" * (MiB + 10)}))
    assert refused.returncode != 0
    assert 'The ConfigMap "big" is invalid: []: Too long: may not be more than 1048576 bytes' in refused.stderr
    assert cluster.kubectl("get", "cm", "big", "-n", ns, check=False).returncode != 0

    assert create(cluster, ns, configmap("fits", {"x": "a" * (MiB - 100)})).returncode == 0
    assert len(cluster.kubectl("get", "cm", "fits", "-n", ns, "-o", "jsonpath={.data.x}").stdout) == MiB - 100


def test_binary_data_counts_decoded_toward_the_configmap_limit(cluster, ns):
    # 1 MiB - 100 bytes is some 1.4 MB as base64, and still fits.
    assert create(cluster, ns, configmap("bin", binary={"x": b"a" * (MiB - 100)})).returncode == 0
    got = cluster.kubectl("get", "cm", "bin", "-n", ns, "-o", "jsonpath={.binaryData.x}").stdout
    assert len(base64.b64decode(got)) == MiB - 100

    refused = create(cluster, ns, configmap("mixed", {"t": "a" * 100}, binary={"x": b"a" * (MiB - 99)}))
    assert refused.returncode != 0
    assert 'The ConfigMap "mixed" is invalid: []: Too long: may not be more than 1048576 bytes' in refused.stderr


def test_a_key_in_both_data_and_binary_data_is_refused(cluster, ns):
    refused = create(cluster, ns, configmap("dup", {"k": "a"}, binary={"k": b"a"}))
    assert refused.returncode != 0
    assert 'The ConfigMap "dup" is invalid' in refused.stderr
    assert 'data[k]: Invalid value: "k": duplicate of key present in binaryData' in refused.stderr


def test_a_secret_over_1_mib_of_data_is_refused(cluster, ns):
    refused = create(cluster, ns, {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "big"},
                                   "data": {"x": b64(MiB - 10), "y": b64(11)}})
    assert refused.returncode != 0
    assert 'The Secret "big" is invalid: data: Too long: may not be more than 1048576 bytes' in refused.stderr

    assert create(cluster, ns, {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "fits"},
                                "data": {"x": b64(MiB - 100)}}).returncode == 0
    got = cluster.kubectl("get", "secret", "fits", "-n", ns, "-o", "jsonpath={.data.x}").stdout
    assert len(base64.b64decode(got)) == MiB - 100


def test_annotations_over_256_kib_are_refused(cluster, ns):
    limit = 256 * 1024
    exact = {"example.com/note": "a" * (limit - len("example.com/note") - 2), "ok": ""}
    assert sum(len(k) + len(v) for k, v in exact.items()) == limit
    assert create(cluster, ns, configmap("exact", annotations=exact)).returncode == 0
    got = json.loads(cluster.kubectl("get", "cm", "exact", "-n", ns, "-o", "json").stdout)["metadata"]["annotations"]
    assert got == exact

    over = dict(exact, ok="!")
    refused = create(cluster, ns, configmap("over", annotations=over))
    assert refused.returncode != 0
    assert 'The ConfigMap "over" is invalid: metadata.annotations: Too long: may not be more than 262144 bytes' in refused.stderr


def test_label_values_and_key_names_over_63_bytes_are_refused(cluster, ns):
    assert create(cluster, ns, configmap("fits", labels={"k" * 63: "v" * 63})).returncode == 0

    value = create(cluster, ns, configmap("value", labels={"app": "v" * 64}))
    assert value.returncode != 0
    # Upstream (1.35 on) counts label lengths in bytes: k8s.io/apimachinery/pkg/api/validate/content.
    assert f'metadata.labels: Invalid value: "{"v" * 64}": must be no more than 63 bytes' in value.stderr

    key = create(cluster, ns, configmap("key", labels={"example.com/" + "k" * 64: "v"}))
    assert key.returncode != 0
    assert f'metadata.labels: Invalid value: "example.com/{"k" * 64}": name part must be no more than 63 bytes' in key.stderr


def test_a_label_key_prefix_over_253_bytes_is_refused(cluster, ns):
    prefix = ".".join(["p" * 63] * 4) + ".pp"  # 258 bytes, each DNS label of it valid
    refused = create(cluster, ns, configmap("prefix", labels={prefix + "/k": "v"}))
    assert refused.returncode != 0
    assert f'metadata.labels: Invalid value: "{prefix}/k": prefix part must be no more than 253 bytes' in refused.stderr


def test_annotation_keys_and_finalizers_past_their_length_are_refused(cluster, ns):
    # Upstream checks both as label keys (validation.IsQualifiedName is content.IsLabelKey), lengths in bytes.
    key = "example.com/" + "k" * 64
    refused = create(cluster, ns, configmap("annotated", annotations={key: "v"}))
    assert refused.returncode != 0
    assert f'metadata.annotations: Invalid value: "{key}": name part must be no more than 63 bytes' in refused.stderr

    refused = create(cluster, ns, configmap("finalized", finalizers=["example.com/" + "f" * 64]))
    assert refused.returncode != 0
    assert '": name part must be no more than 63 bytes' in refused.stderr


def test_names_past_their_length_are_refused(cluster, ns):
    name = "c" * 254
    refused = create(cluster, ns, configmap(name))
    assert refused.returncode != 0
    assert f'metadata.name: Invalid value: "{name}": must be no more than 253 characters' in refused.stderr
    assert create(cluster, ns, configmap("c" * 253)).returncode == 0

    service = "s" * 64
    refused = create(cluster, ns, {"apiVersion": "v1", "kind": "Service", "metadata": {"name": service},
                                   "spec": {"ports": [{"port": 80}]}})
    assert refused.returncode != 0
    assert f'The Service "{service}" is invalid: metadata.name: Invalid value: "{service}": must be no more than 63 characters' in refused.stderr


def test_a_json_patch_of_more_than_10000_operations_gets_413(cluster, ns, tmp_path):
    cluster.kubectl("create", "configmap", "cm", "-n", ns, "--from-literal=a=b")
    ops = [{"op": "add", "path": f"/data/k{i}", "value": "v"} for i in range(10_001)]
    too_many = tmp_path / "too-many.json"
    too_many.write_text(json.dumps(ops))
    refused = cluster.kubectl("patch", "cm", "cm", "-n", ns, "--type=json", f"--patch-file={too_many}", check=False)
    assert refused.returncode != 0
    assert refused.stderr.strip() == ("Error from server (RequestEntityTooLarge): "
                                      "The allowed maximum operations in a JSON patch is 10000, got 10001")
    code, status = request(cluster, f"/api/v1/namespaces/{ns}/configmaps/cm", "PATCH", ops, "application/json-patch+json")
    assert code == 413
    assert (status["reason"], status["message"], status["code"]) == \
        ("RequestEntityTooLarge", "The allowed maximum operations in a JSON patch is 10000, got 10001", 413)
    assert json.loads(cluster.kubectl("get", "cm", "cm", "-n", ns, "-o", "json").stdout)["data"] == {"a": "b"}

    at_limit = tmp_path / "at-limit.json"
    at_limit.write_text(json.dumps(ops[:10_000]))
    cluster.kubectl("patch", "cm", "cm", "-n", ns, "--type=json", f"--patch-file={at_limit}")
    data = json.loads(cluster.kubectl("get", "cm", "cm", "-n", ns, "-o", "json").stdout)["data"]
    assert data == {"a": "b", **{f"k{i}": "v" for i in range(10_000)}}


def test_a_merge_patch_of_100000_keys_is_applied(cluster, ns, tmp_path):
    cluster.kubectl("create", "configmap", "wide", "-n", ns)
    patch = {"data": {f"k{i}": "v" for i in range(100_000)}}
    body = tmp_path / "merge.json"
    body.write_text(json.dumps(patch))
    assert body.stat().st_size < 3 * MiB
    cluster.kubectl("patch", "cm", "wide", "-n", ns, "--type=merge", f"--patch-file={body}")
    data = json.loads(cluster.kubectl("get", "cm", "wide", "-n", ns, "-o", "json").stdout)["data"]
    assert data == patch["data"]


def test_a_strategic_merge_patch_of_5000_env_items_merges_by_name(cluster, ns, tmp_path):
    names = [f"E{i}" for i in range(5000)]
    deployment = {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "envy"},
        "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "envy"}}, "template": {
            "metadata": {"labels": {"app": "envy"}},
            "spec": {"containers": [{"name": "c", "image": "busybox", "env": [{"name": n, "value": "old"} for n in names]}]}}}}
    assert create(cluster, ns, deployment).returncode == 0
    patch = {"spec": {"template": {"spec": {"containers": [
        {"name": "c", "env": [{"name": n, "value": f"new-{n}"} for n in names]}]}}}}
    body = tmp_path / "strategic.json"
    body.write_text(json.dumps(patch))
    cluster.kubectl("patch", "deploy", "envy", "-n", ns, "--type=strategic", f"--patch-file={body}")
    containers = json.loads(cluster.kubectl("get", "deploy", "envy", "-n", ns, "-o", "json").stdout)["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["c"]
    assert containers[0]["env"] == [{"name": n, "value": f"new-{n}"} for n in names]


def test_an_object_too_large_for_the_store_gets_500_and_is_not_stored(cluster, ns):
    cluster.kubectl("apply", "-f", "-", input=BLOBS)
    cluster.kubectl("wait", "--for", "condition=established", "crd/blobs.limits.example.com", "--timeout=20s")
    path = f"/apis/limits.example.com/v1/namespaces/{ns}/blobs"
    blob = {"apiVersion": "limits.example.com/v1", "kind": "Blob", "metadata": {"name": "huge"},
            "spec": {"blob": "x" * 1_600_000}}
    code, status = request(cluster, path, "POST", blob)
    # etcd's own refusal, which upstream's apiserver passes on as it is: a 500 whose Status has no reason.
    assert code == 500
    assert status == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                      "message": "etcdserver: request is too large", "code": 500}
    code, status = request(cluster, f"{path}/huge")
    assert code == 404 and status["reason"] == "NotFound"

    blob["spec"]["blob"] = "x" * 1_000_000
    assert request(cluster, path, "POST", blob)[0] == 201


def test_a_body_over_3_mib_gets_413(cluster, ns):
    path = f"/api/v1/namespaces/{ns}/configmaps"
    manifest = json.dumps(configmap("padded", {"a": "b"})).encode()
    # Trailing whitespace is still JSON: the body is exactly at the limit, and one byte past it.
    at_limit = manifest + b" " * (3 * MiB - len(manifest))
    code, status = request(cluster, path, "POST", at_limit + b" ")
    assert code == 413
    assert (status["reason"], status["message"]) == ("RequestEntityTooLarge", "Request entity too large: limit is 3145728")
    assert request(cluster, path, "POST", at_limit)[0] == 201
