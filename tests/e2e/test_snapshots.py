"""cubby snapshot save|restore|ls|rm and cubby start --snapshot, as a user resetting a cluster between test runs
drives them: the objects come back exactly, watches end and can be opened again, resourceVersions only grow, and a
snapshot that cannot be restored is refused in one line with nothing changed."""
import hashlib
import json
import os
import subprocess
import sys
import time

import pytest

from conftest import free_port, wait_for
from realpods import BUSYBOX, eventually, make_profile
from test_cli import Env

NS = "snap-a"
CRD = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "gizmos.example.com"},
    "spec": {"group": "example.com", "scope": "Namespaced",
             "names": {"plural": "gizmos", "singular": "gizmo", "kind": "Gizmo"},
             "versions": [{"name": "v1", "served": True, "storage": True,
                           "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                               "spec": {"type": "object", "properties": {"size": {"type": "integer"}}}}}}}]},
}
# What "the same objects" means here: these kinds and the custom resources, compared by namespace, name and spec.
KINDS = "namespaces,customresourcedefinitions,deployments,replicasets,pods,services,configmaps"


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    e = Env(tmp_path_factory.mktemp("snapshots"))
    e.port = free_port()
    try:
        e.start("--port", str(e.port))
        yield e
    finally:
        e.cubby("delete", "--all", check=False)


def objects(e, context="cubby"):
    """Every object of KINDS, by (kind, namespace, name): its spec (a namespace's or configmap's: its data)."""
    items = json.loads(e.kubectl("--context", context, "get", KINDS, "-A", "-o", "json").stdout)["items"]
    # Served only while their CRD is.
    gizmos = e.kubectl("--context", context, "get", "gizmos", "-A", "-o", "json", check=False)
    items += json.loads(gizmos.stdout)["items"] if gizmos.returncode == 0 else []
    return {(o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"]): o.get("spec", o.get("data")) for o in items}


def list_revision(e):
    """A list's resourceVersion: the store's revision when it was read."""
    return int(json.loads(e.kubectl("get", "--raw", "/api/v1/namespaces").stdout)["metadata"]["resourceVersion"])


def highest_resource_version(e):
    out = json.loads(e.kubectl("get", KINDS + ",events,leases", "-A", "-o", "json").stdout)
    return max([list_revision(e)] + [int(o["metadata"]["resourceVersion"]) for o in out["items"]])


def running_pods(e, context="cubby"):
    pods = json.loads(e.kubectl("--context", context, "get", "pods", "-n", NS, "-o", "json").stdout)["items"]
    return sorted(p["metadata"]["name"] for p in pods if p["status"].get("phase") == "Running" and "deletionTimestamp" not in p["metadata"])


def make_fixtures(e):
    e.kubectl("create", "namespace", NS)
    e.kubectl("apply", "-f", "-", input=json.dumps(CRD))
    e.kubectl("wait", "--for", "condition=established", "crd/gizmos.example.com", "--timeout=30s")
    for name, size in [("small", 1), ("large", 9)]:
        e.kubectl("apply", "-f", "-", input=json.dumps(
            {"apiVersion": "example.com/v1", "kind": "Gizmo", "metadata": {"name": name, "namespace": NS}, "spec": {"size": size}}))
    e.kubectl("create", "deployment", "web", "--image=nginx", "--replicas=2", "-n", NS)
    e.kubectl("rollout", "status", "deployment/web", "-n", NS, "--timeout=60s")
    return wait_for("two running pods", lambda: (lambda p: p if len(p) == 2 else None)(running_pods(e)))


def test_restore_brings_back_exactly_the_saved_objects_and_ends_watches(env):
    e = env
    pods = make_fixtures(e)
    saved = objects(e)
    assert ("Gizmo", NS, "large") in saved and ("Deployment", NS, "web") in saved
    out = e.cubby("snapshot", "save", "base").stdout.strip()
    assert out.startswith('📸  Saved snapshot "base" of "cubby": ') and "objects at resourceVersion" in out
    listed = e.cubby("snapshot", "ls").stdout.splitlines()
    assert listed[0].split() == ["NAME", "PROFILE", "OBJECTS", "RESOURCEVERSION", "CREDENTIALS", "SIZE", "AGE"]
    assert listed[1].split()[:2] == ["base", "cubby"] and listed[1].split()[4] == "no"

    # Everything saved goes; other objects come.
    e.kubectl("delete", "namespace", NS, "--timeout=60s")
    e.kubectl("delete", "crd", "gizmos.example.com", "--timeout=60s")
    e.kubectl("create", "namespace", "snap-b")
    e.kubectl("create", "configmap", "stray", "-n", "snap-b", "--from-literal=a=b")
    assert ("Namespace", "", NS) not in objects(e)
    seen = highest_resource_version(e)

    watch = subprocess.Popen(["kubectl", "get", "configmaps", "-n", "snap-b", "-w"], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, env=e.env)
    try:
        time.sleep(2)  # the watch is open: its first rows are printed
        out = e.cubby("snapshot", "restore", "base").stdout.strip()
        assert out.startswith('⏪  Restored snapshot "base" into "cubby": ') and "resourceVersions go on from" in out
        # The running watch is ended, with 410 Gone as after an etcd restore.
        printed, _ = watch.communicate(timeout=30)
    finally:
        watch.kill()
    assert "stray" in printed and "Expired" in printed and "too old resource version" in printed, printed

    # Exactly the saved objects, with their specs; the deployment's pods back and Running.
    wait_for("the restored objects", lambda: objects(e) == saved, timeout=30)
    assert running_pods(e) == pods
    assert e.kubectl("get", "namespace", "snap-b", check=False).returncode != 0
    # resourceVersions after the restore are above every one seen before it.
    after = json.loads(e.kubectl("get", "deployments,gizmos,pods", "-n", NS, "-o", "json").stdout)
    assert list_revision(e) > seen
    assert all(int(o["metadata"]["resourceVersion"]) > seen for o in after["items"])
    # An old resourceVersion is gone for good; a new watch works.
    r = e.kubectl("get", "--raw", f"/api/v1/namespaces/{NS}/configmaps?watch=1&resourceVersion={seen}&timeoutSeconds=1", check=False)
    assert '"code":410' in r.stdout.replace(" ", ""), r.stdout + r.stderr
    rewatch = subprocess.Popen(["kubectl", "get", "gizmos", "-n", NS, "-w"], stdout=subprocess.PIPE, text=True, env=e.env)
    try:
        assert "large" in rewatch.stdout.readline() + rewatch.stdout.readline() + rewatch.stdout.readline()
    finally:
        rewatch.kill()
        rewatch.wait()
    # Controllers go on from the restored state.
    e.kubectl("scale", "deployment/web", "-n", NS, "--replicas=3")
    wait_for("a third pod", lambda: len(running_pods(e)) == 3, timeout=60)
    e.kubectl("create", "configmap", "after", "-n", NS)
    assert int(e.kubectl("get", "configmap", "after", "-n", NS, "-o", "jsonpath={.metadata.resourceVersion}").stdout) > seen


def test_a_second_cluster_starts_from_a_snapshot(env):
    e = env
    e.cubby("snapshot", "save", "shared", "--force")
    e.cubby("snapshot", "save", "with-keys", "--include-credentials", "--force")
    try:
        out = e.start("-p", "copy", "--snapshot", "shared", "--port", str(free_port())).stdout
        assert '⏪  Restoring snapshot "shared"' in out
        names = lambda ctx: {k for k in objects(e, ctx) if k[0] in ("Namespace", "Deployment", "Gizmo", "CustomResourceDefinition")}
        assert names("copy") == names("cubby") and ("Gizmo", NS, "large") in names("copy")
        ca = lambda profile: (e.home / "profiles" / profile / "pki" / "ca.crt").read_bytes()
        # Without --include-credentials the new cluster made its own; with it, it has the saved ones.
        assert ca("copy") != ca("cubby")
        e.start("-p", "keys", "--snapshot", "with-keys", "--port", str(free_port()))
        assert ca("keys") == ca("cubby")
        # Restoring into a profile whose credentials differ keeps the profile's own.
        before = ca("copy")
        e.cubby("snapshot", "restore", "with-keys", "-p", "copy")
        assert ca("copy") == before
        assert ("Gizmo", NS, "large") in objects(e, "copy")
    finally:
        e.cubby("delete", "-p", "copy", check=False)
        e.cubby("delete", "-p", "keys", check=False)
        e.kubectl("config", "use-context", "cubby")


def test_a_stopped_cluster_is_restored_in_its_store(env):
    e = env
    e.cubby("snapshot", "save", "stopped", "--force")
    e.kubectl("create", "configmap", "made-later", "-n", NS)
    e.cubby("stop")
    try:
        out = e.cubby("snapshot", "restore", "stopped").stdout
        assert out.startswith('⏪  Restored snapshot "stopped" into "cubby"')
    finally:
        e.start()
    assert e.kubectl("get", "configmap", "made-later", "-n", NS, check=False).returncode != 0
    assert ("Gizmo", NS, "large") in objects(e)


def fingerprint(path):
    return {p.relative_to(path): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(path.rglob("*")) if p.is_file()}


def test_snapshots_that_cannot_be_restored_are_refused_in_one_line(env):
    e = env
    e.cubby("snapshot", "save", "good", "--force")
    folder = e.home / "snapshots"
    damaged, newer, newer_store = folder / "damaged", folder / "newer", folder / "newer-store"
    for target in (damaged, newer, newer_store):
        subprocess.run(["cp", "-r", str(folder / "good"), str(target)], check=True)
    with open(damaged / "state.db", "r+b") as f:
        f.seek(4096)
        f.write(b"not what was saved")
    for target, field in ((newer, "format"), (newer_store, "storeFormat")):
        manifest = json.loads((target / "manifest.json").read_text())
        manifest[field] += 1
        (target / "manifest.json").write_text(json.dumps(manifest))

    e.kubectl("create", "configmap", "marker", "-n", NS)
    snapshots = fingerprint(folder)
    cases = {
        "nope": 'snapshot "nope" not found. Run "cubby snapshot ls" to list the snapshots.',
        "damaged": 'snapshot "damaged" is damaged: its state.db does not match the checksum in its manifest',
        "newer": 'snapshot "newer" was saved by a newer cubby',
        "newer-store": 'snapshot "newer-store" was saved by a newer cubby',
    }
    for name, message in cases.items():
        for args in (["snapshot", "restore", name], ["start", "-p", "fresh", "--snapshot", name]):
            r = e.cubby(*args, check=False)
            assert r.returncode != 0, args
            lines = r.stderr.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("❌  " + message), r.stderr
    # Nothing changed: the cluster's objects, the snapshots, and no profile was made.
    assert e.kubectl("get", "configmap", "marker", "-n", NS, check=False).returncode == 0
    assert fingerprint(folder) == snapshots
    assert not (e.home / "profiles" / "fresh").exists()
    r = e.cubby("snapshot", "save", "good", check=False)
    assert r.returncode != 0 and "already exists" in r.stderr
    e.cubby("snapshot", "rm", "damaged")
    assert not damaged.exists()
    r = e.cubby("snapshot", "rm", "damaged", check=False)
    assert r.returncode != 0 and r.stderr.strip() == '❌  snapshot "damaged" not found. Run "cubby snapshot ls" to list the snapshots.'


def test_the_restore_endpoint_takes_only_the_admin_and_files_of_its_own_folder(env, tmp_path):
    e = env
    body = tmp_path / "body.json"
    body.write_text(json.dumps({"file": "../cubby/state.db"}))
    r = e.kubectl("create", "--raw", "/cubby/v1/restore", "-f", str(body), check=False)
    assert r.returncode != 0 and "naming a file in the data directory" in r.stderr, r.stderr
    body.write_text(json.dumps({"file": "restoring-nothing.db"}))
    r = e.kubectl("create", "--raw", "/cubby/v1/restore", "-f", str(body), check=False)
    assert r.returncode != 0 and "does not exist" in r.stderr, r.stderr
    r = e.kubectl("create", "--raw", "/cubby/v1/restore", "-f", str(body), "--as", "jane", check=False)
    assert r.returncode != 0 and 'User "jane" cannot post path "/cubby/v1/restore"' in r.stderr, r.stderr


@pytest.mark.skipif(sys.platform != "linux" or os.geteuid() != 0, reason="real pods need Linux and root")
def test_with_real_pods_the_node_follows_the_restore(tmp_path, images):
    """The kubelet makes the node match the restored objects: a pod the snapshot lacks is stopped, one it holds runs."""
    p = make_profile(tmp_path, images, "snap")

    def container(name):
        status = p.get("pod", name)["status"]
        running = [c for c in status.get("containerStatuses", []) if c.get("ready") and "running" in c["state"]]
        return running[0]["containerID"].removeprefix("containerd://") if running else None

    try:
        p.kubectl("run", "kept", f"--image={BUSYBOX}", "--", "sleep", "3600")
        p.wait("--for=condition=Ready", "pod/kept")
        first = container("kept")
        p.cubby("snapshot", "save", "real")
        p.kubectl("delete", "pod", "kept", "--grace-period=1")
        eventually(lambda: first not in p.containers(), what="the deleted pod's container gone")
        p.kubectl("run", "later", f"--image={BUSYBOX}", "--", "sleep", "3600")
        p.wait("--for=condition=Ready", "pod/later")
        later = container("later")

        p.cubby("snapshot", "restore", "real")
        eventually(lambda: later not in p.containers(), what="the container of the pod the snapshot lacks stopped")
        again = eventually(lambda: container("kept"), what="the restored pod running again")
        assert again in p.containers()
        assert p.kubectl("get", "pod", "later", check=False).returncode != 0
    finally:
        p.cubby("delete", check=False)
