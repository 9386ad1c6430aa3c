"""Workloads on simulated nodes, driven by the real kubectl: the controller manager, the scheduler
and the node agent together behave as a real cluster does."""
import json
import tempfile
import time
from pathlib import Path

import pytest

from conftest import Cluster, daemonset_yaml, namespace_for, wait_for


@pytest.fixture(scope="module")
def nodes3():
    """Three simulated nodes; heartbeats missed for 4 s make a node NotReady."""
    with tempfile.TemporaryDirectory(prefix="cubby-workloads-") as d:
        c = Cluster(Path(d) / "data", extra=("--nodes", "3", "--node-monitor-grace-period", "4")).start()
        yield c
        c.stop()


@pytest.fixture
def wns(nodes3, request):
    yield from namespace_for(nodes3, request, "w")


def get(c, *args):
    return json.loads(c.kubectl("get", *args, "-o", "json").stdout)


def rows(out):
    return [line.split() for line in out.strip().splitlines()]


def pods_of(c, ns, selector):
    return get(c, "pods", "-n", ns, "-l", selector)["items"]


def test_nodes_are_registered_ready_with_leases(nodes3):
    out = rows(nodes3.kubectl("get", "nodes").stdout)
    assert out[0] == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    assert [(r[0], r[1], r[4]) for r in out[1:]] == [(n, "Ready", "v1.37.0") for n in ("cubby", "cubby-m02", "cubby-m03")]
    node = get(nodes3, "node", "cubby-m02")
    assert node["spec"]["podCIDR"] == "10.244.1.0/24"
    assert node["metadata"]["labels"]["kubernetes.io/hostname"] == "cubby-m02"
    assert node["status"]["allocatable"]["pods"] == "110"
    leases = nodes3.kubectl("get", "leases", "-n", "kube-node-lease", "-o", "name").stdout.split()
    assert leases == ["lease.coordination.k8s.io/cubby", "lease.coordination.k8s.io/cubby-m02", "lease.coordination.k8s.io/cubby-m03"]


def test_deployment_rollout_undo_pause_restart_and_scale(nodes3, wns):
    k = lambda *a, **kw: nodes3.kubectl("-n", wns, *a, **kw)
    k("create", "deployment", "web", "--image=nginx", "--replicas=3")
    assert 'deployment "web" successfully rolled out' in k("rollout", "status", "deployment/web", "--timeout=60s").stdout
    assert rows(k("get", "deploy", "web").stdout)[1][:4] == ["web", "3/3", "3", "3"]
    pods = pods_of(nodes3, wns, "app=web")
    assert len(pods) == 3 and all(p["status"]["phase"] == "Running" and p["status"]["podIP"].startswith("10.244.") for p in pods)
    ready = [c for c in pods[0]["status"]["conditions"] if c["type"] == "Ready"][0]
    assert ready["status"] == "True"

    k("set", "image", "deployment/web", "nginx=nginx:1.27")
    k("rollout", "status", "deployment/web", "--timeout=60s")
    history = rows(k("rollout", "history", "deployment/web").stdout)
    assert history[1:] == [["REVISION", "CHANGE-CAUSE"], ["1", "<none>"], ["2", "<none>"]]
    assert all(p["spec"]["containers"][0]["image"] == "nginx:1.27" for p in pods_of(nodes3, wns, "app=web")
               if p["metadata"].get("deletionTimestamp") is None)

    k("rollout", "undo", "deployment/web")
    k("rollout", "status", "deployment/web", "--timeout=60s")
    assert get(nodes3, "deploy", "web", "-n", wns)["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx"
    assert [r[0] for r in rows(k("rollout", "history", "deployment/web").stdout)[2:]] == ["2", "3"]

    k("rollout", "pause", "deployment/web")
    k("set", "image", "deployment/web", "nginx=nginx:1.28")
    time.sleep(1)
    dep = get(nodes3, "deploy", "web", "-n", wns)
    progressing = [c for c in dep["status"]["conditions"] if c["type"] == "Progressing"][0]
    assert (progressing["status"], progressing["reason"]) == ("Unknown", "DeploymentPaused")
    assert len(get(nodes3, "rs", "-n", wns)["items"]) == 2, "a paused deployment rolls nothing out"
    k("rollout", "resume", "deployment/web")
    k("rollout", "status", "deployment/web", "--timeout=60s")
    assert len(get(nodes3, "rs", "-n", wns)["items"]) == 3

    k("rollout", "restart", "deployment/web")
    k("rollout", "status", "deployment/web", "--timeout=60s")
    template = get(nodes3, "deploy", "web", "-n", wns)["spec"]["template"]
    assert "kubectl.kubernetes.io/restartedAt" in template["metadata"]["annotations"]

    k("scale", "deployment/web", "--replicas=10")
    k("rollout", "status", "deployment/web", "--timeout=60s")
    assert rows(k("get", "deploy", "web").stdout)[1][1] == "10/10"
    k("scale", "deployment/web", "--replicas=2")
    wait_for("2 pods", lambda: len([p for p in pods_of(nodes3, wns, "app=web") if "deletionTimestamp" not in p["metadata"]]) == 2)
    wait_for("2/2", lambda: rows(k("get", "deploy", "web").stdout)[1][1] == "2/2")

    events = k("get", "events", "--field-selector", "involvedObject.kind=Deployment").stdout
    assert "ScalingReplicaSet" in events and "Scaled up replica set web-" in events
    described = k("describe", "pod", pods_of(nodes3, wns, "app=web")[0]["metadata"]["name"]).stdout
    assert "Successfully assigned" in described and "default-scheduler" in described


def test_cascading_deletion(nodes3, wns):
    k = lambda *a, **kw: nodes3.kubectl("-n", wns, *a, **kw)
    for name in ("bg", "orphan"):
        k("create", "deployment", name, "--image=nginx", "--replicas=2")
    # fg's pods take 2 s to stop, so the foreground deletion can be watched waiting for them.
    k("create", "-f", "-", input="""apiVersion: apps/v1
kind: Deployment
metadata: {name: fg}
spec:
  replicas: 2
  selector: {matchLabels: {app: fg}}
  template:
    metadata: {labels: {app: fg}, annotations: {cubby.dev/simulated-stop-seconds: "2"}}
    spec:
      containers: [{name: c, image: nginx}]
""")
    for name in ("bg", "orphan", "fg"):
        k("rollout", "status", f"deployment/{name}", "--timeout=60s")

    k("delete", "deployment", "bg")
    wait_for("bg's replica sets and pods gone",
             lambda: not get(nodes3, "rs", "-n", wns, "-l", "app=bg")["items"] and not pods_of(nodes3, wns, "app=bg"))

    k("delete", "deployment", "orphan", "--cascade=orphan")
    wait_for("orphan deployment gone", lambda: k("get", "deploy", "orphan", check=False).returncode == 1)
    rs = get(nodes3, "rs", "-n", wns, "-l", "app=orphan")["items"]
    assert len(rs) == 1 and "ownerReferences" not in rs[0]["metadata"]
    assert len(pods_of(nodes3, wns, "app=orphan")) == 2, "orphaned pods stay, still owned by their replica set"

    k("delete", "deployment", "fg", "--cascade=foreground", "--wait=false")
    dep = get(nodes3, "deploy", "fg", "-n", wns)
    assert "foregroundDeletion" in dep["metadata"]["finalizers"] and dep["metadata"]["deletionTimestamp"]
    wait_for("fg's pods terminating first", lambda: all(p["metadata"].get("deletionTimestamp") for p in pods_of(nodes3, wns, "app=fg")))
    assert k("get", "deploy", "fg", check=False).returncode == 0, "the owner waits for its dependents"
    wait_for("fg gone after its dependents", lambda: k("get", "deploy", "fg", check=False).returncode == 1)
    assert not get(nodes3, "rs", "-n", wns, "-l", "app=fg")["items"]
    assert not pods_of(nodes3, wns, "app=fg")


def test_owners_release_relabelled_pods_and_adopt_matching_orphans(nodes3, wns):
    k = lambda *a, **kw: nodes3.kubectl("-n", wns, *a, **kw)
    k("create", "deployment", "keep", "--image=nginx", "--replicas=2")
    k("rollout", "status", "deployment/keep", "--timeout=60s")
    rs = get(nodes3, "rs", "-n", wns, "-l", "app=keep")["items"][0]
    live = lambda: [p for p in pods_of(nodes3, wns, "app=keep") if not p["metadata"].get("deletionTimestamp")]
    stray = live()[0]["metadata"]["name"]

    # Relabelled out of the selector: released (no owner), and the set makes a replacement.
    k("label", "pod", stray, "app=gone", "--overwrite")
    wait_for("the relabelled pod released", lambda: "ownerReferences" not in get(nodes3, "pod", stray, "-n", wns)["metadata"])
    wait_for("a replacement", lambda: len(live()) == 2 and stray not in [p["metadata"]["name"] for p in live()])

    # Labelled back: adopted, and the set, one pod over, deletes the newest.
    k("label", "pod", stray, "app=keep", "--overwrite")
    def adopted():
        pods = live()
        owners = {p["metadata"]["name"]: [o["uid"] for o in p["metadata"].get("ownerReferences", []) if o.get("controller")] for p in pods}
        return len(pods) == 2 and owners.get(stray) == [rs["metadata"]["uid"]]
    wait_for("the orphan adopted and the newest pod deleted", adopted)

    # A Deployment made again adopts the replica set its predecessor orphaned.
    k("delete", "deployment", "keep", "--cascade=orphan")
    wait_for("keep orphaned", lambda: k("get", "deploy", "keep", check=False).returncode == 1
             and "ownerReferences" not in get(nodes3, "rs", rs["metadata"]["name"], "-n", wns)["metadata"])
    k("create", "deployment", "keep", "--image=nginx", "--replicas=2")
    k("rollout", "status", "deployment/keep", "--timeout=60s")
    uid = get(nodes3, "deploy", "keep", "-n", wns)["metadata"]["uid"]
    sets = get(nodes3, "rs", "-n", wns, "-l", "app=keep")["items"]
    assert [s["metadata"]["name"] for s in sets] == [rs["metadata"]["name"]]
    assert [o["uid"] for o in sets[0]["metadata"]["ownerReferences"]] == [uid]
    assert stray in [p["metadata"]["name"] for p in live()]


STATEFULSET = """apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web}
spec:
  serviceName: web
  replicas: 3
  selector: {matchLabels: {app: sts}}
  template:
    metadata: {labels: {app: sts}}
    spec:
      containers:
      - name: c
        image: nginx
        readinessProbe: {initialDelaySeconds: 1, tcpSocket: {port: 80}}
  volumeClaimTemplates:
  - metadata: {name: www}
    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
"""


def test_statefulset_comes_up_in_order_with_a_claim_each(nodes3, wns):
    k = lambda *a, **kw: nodes3.kubectl("-n", wns, *a, **kw)
    k("create", "-f", "-", input=STATEFULSET)
    k("rollout", "status", "statefulset/web", "--timeout=60s")
    pods = {p["metadata"]["name"]: p for p in pods_of(nodes3, wns, "app=sts")}
    assert sorted(pods) == ["web-0", "web-1", "web-2"]
    ready_at = lambda p: [c for c in p["status"]["conditions"] if c["type"] == "Ready"][0]["lastTransitionTime"]
    created = lambda p: p["metadata"]["creationTimestamp"]
    # OrderedReady: each pod is created only once the one before it is Ready.
    assert created(pods["web-1"]) >= ready_at(pods["web-0"]) and created(pods["web-2"]) >= ready_at(pods["web-1"])
    assert pods["web-1"]["spec"]["hostname"] == "web-1" and pods["web-1"]["spec"]["subdomain"] == "web"
    claims = rows(k("get", "pvc", "-o", "custom-columns=NAME:.metadata.name").stdout)[1:]
    assert claims == [["www-web-0"], ["www-web-1"], ["www-web-2"]]
    # Bound to volumes the default class provisioned, as on minikube.
    wait_for("claims bound", lambda: all(r[1] == "Bound" for r in rows(k("get", "pvc").stdout)[1:]))
    table = rows(k("get", "pvc").stdout)
    assert table[0] == ["NAME", "STATUS", "VOLUME", "CAPACITY", "ACCESS", "MODES", "STORAGECLASS", "VOLUMEATTRIBUTESCLASS", "AGE"]
    assert [(r[0], r[1], r[2].startswith("pvc-"), r[3], r[4], r[5], r[6]) for r in table[1:]] == [
        (f"www-web-{i}", "Bound", True, "1Gi", "RWO", "standard", "<unset>") for i in range(3)]
    volume = [v for v in pods["web-2"]["spec"]["volumes"] if v["name"] == "www"][0]
    assert volume["persistentVolumeClaim"]["claimName"] == "www-web-2"

    k("scale", "statefulset/web", "--replicas=1")
    wait_for("web-1 and web-2 gone", lambda: [p["metadata"]["name"] for p in pods_of(nodes3, wns, "app=sts")] == ["web-0"])
    assert len(rows(k("get", "pvc").stdout)) == 4, "claims outlive scale-down (Retain)"


def test_claims_bind_to_matching_volumes_or_are_provisioned(nodes3, wns):
    k = lambda *a, **kw: nodes3.kubectl("-n", wns, *a, **kw)
    assert rows(nodes3.kubectl("get", "storageclass").stdout)[1][:6] == [
        "standard", "(default)", "cubby.dev/hostpath", "Delete", "Immediate", "false"]
    small, big = f"{wns}-small", f"{wns}-big"
    k("create", "-f", "-", input=f"""apiVersion: v1
kind: PersistentVolume
metadata: {{name: {small}}}
spec: {{capacity: {{storage: 1Gi}}, accessModes: [ReadWriteOnce], storageClassName: manual, hostPath: {{path: /tmp/{small}}}}}
---
apiVersion: v1
kind: PersistentVolume
metadata: {{name: {big}}}
spec: {{capacity: {{storage: 10Gi}}, accessModes: [ReadWriteOnce, ReadWriteMany], storageClassName: manual, hostPath: {{path: /tmp/{big}}}}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {{name: shared}}
spec: {{storageClassName: manual, accessModes: [ReadWriteMany], resources: {{requests: {{storage: 500Mi}}}}}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {{name: scratch}}
spec: {{accessModes: [ReadWriteOnce], resources: {{requests: {{storage: 2Gi}}}}}}
""")
    wait_for("both claims bound", lambda: [r[1] for r in rows(k("get", "pvc").stdout)[1:]] == ["Bound", "Bound"])
    claims = {r[0]: r for r in rows(k("get", "pvc").stdout)[1:]}
    # The only volume with ReadWriteMany, though bigger than asked; capacity is the volume's.
    assert claims["shared"][2:6] == [big, "10Gi", "RWO,RWX", "manual"]
    scratch = get(nodes3, "pvc", "scratch", "-n", wns)
    assert scratch["spec"]["storageClassName"] == "standard" and scratch["spec"]["volumeName"] == "pvc-" + scratch["metadata"]["uid"]
    volume = rows(nodes3.kubectl("get", "pv", big).stdout)
    assert volume[0][:8] == ["NAME", "CAPACITY", "ACCESS", "MODES", "RECLAIM", "POLICY", "STATUS", "CLAIM"]
    assert volume[1][:6] == [big, "10Gi", "RWO,RWX", "Retain", "Bound", f"{wns}/shared"]
    assert rows(nodes3.kubectl("get", "pv", small).stdout)[1][4] == "Available"
    events = k("get", "events", "--field-selector", "involvedObject.name=scratch").stdout
    assert "ProvisioningSucceeded" in events and "Successfully provisioned volume pvc-" in events

    # Claims deleted: the provisioned volume goes with its claim, the retained one is Released.
    k("delete", "pvc", "shared", "scratch")
    wait_for("provisioned volume deleted", lambda: nodes3.kubectl("get", "pv", scratch["spec"]["volumeName"], check=False).returncode == 1)
    wait_for("retained volume released", lambda: rows(nodes3.kubectl("get", "pv", big).stdout)[1][4] == "Released")
    nodes3.kubectl("delete", "pv", small, big)


def test_daemonset_puts_one_pod_on_each_node(nodes3, wns):
    k = lambda *a, **kw: nodes3.kubectl("-n", wns, *a, **kw)
    k("create", "-f", "-", input=daemonset_yaml("agent"))
    k("rollout", "status", "daemonset/agent", "--timeout=60s")
    assert rows(k("get", "ds", "agent").stdout)[1][:6] == ["agent", "3", "3", "3", "3", "3"]
    nodes = sorted(p["spec"]["nodeName"] for p in pods_of(nodes3, wns, "app=agent"))
    assert nodes == ["cubby", "cubby-m02", "cubby-m03"]


def test_job_with_completions_and_parallelism_completes(nodes3, wns):
    k = lambda *a, **kw: nodes3.kubectl("-n", wns, *a, **kw)
    k("create", "-f", "-", input="""apiVersion: batch/v1
kind: Job
metadata: {name: batch}
spec:
  completions: 3
  parallelism: 2
  template:
    metadata:
      annotations: {cubby.dev/simulated-run-seconds: "3"}
    spec:
      restartPolicy: Never
      containers: [{name: c, image: busybox}]
""")
    # Two at a time: the third pod waits for a first one to finish. Each runs three seconds, so a
    # poll of two kubectl calls on a busy machine still sees the first two together.
    seen = []
    def complete():
        job = get(nodes3, "job", "batch", "-n", wns)
        live = [p for p in pods_of(nodes3, wns, "job-name=batch") if p["status"].get("phase") in ("Pending", "Running")]
        seen.append(len(live))
        return any(c["type"] == "Complete" and c["status"] == "True" for c in job["status"].get("conditions", []))
    wait_for("the job to complete", complete, timeout=60)
    assert max(seen) == 2, seen
    assert rows(k("get", "job", "batch").stdout)[1][:3] == ["batch", "Complete", "3/3"]
    pods = pods_of(nodes3, wns, "job-name=batch")
    assert len(pods) == 3 and all(p["status"]["phase"] == "Succeeded" for p in pods)
    assert "Completed" in k("get", "pods", "-l", "job-name=batch").stdout


def test_cronjob_creates_a_job_within_its_minute(nodes3, wns):
    k = lambda *a, **kw: nodes3.kubectl("-n", wns, *a, **kw)
    k("create", "cronjob", "tick", "--image=busybox", "--schedule=*/1 * * * *", "--", "true")
    jobs = wait_for("a job from the cronjob", lambda: get(nodes3, "jobs", "-n", wns)["items"], timeout=70, interval=1)
    job = jobs[0]
    assert job["metadata"]["name"].startswith("tick-")
    assert job["metadata"]["ownerReferences"][0]["kind"] == "CronJob"
    k("wait", "--for=condition=complete", f"job/{job['metadata']['name']}", "--timeout=30s")
    wait_for("last schedule shown", lambda: rows(k("get", "cronjob", "tick").stdout)[1][5] != "<none>")


def test_expose_lists_ready_pods_in_endpoints_and_slices(nodes3, wns):
    k = lambda *a, **kw: nodes3.kubectl("-n", wns, *a, **kw)
    k("create", "deployment", "web", "--image=nginx", "--replicas=3", "--port=80")
    k("rollout", "status", "deployment/web", "--timeout=60s")
    k("expose", "deployment", "web", "--port=8080", "--target-port=80")
    ips = sorted(p["status"]["podIP"] for p in pods_of(nodes3, wns, "app=web"))
    expected = ",".join(f"{ip}:80" for ip in ips)
    wait_for("endpoints", lambda: rows(k("get", "endpoints", "web").stdout)[1][1] == expected)
    # As since v1.33, reading v1 Endpoints warns; EndpointSlices do not.
    assert k("get", "endpoints", "web").stderr.strip() == "Warning: v1 Endpoints is deprecated in v1.33+; use discovery.k8s.io/v1 EndpointSlice"
    assert k("get", "endpointslices").stderr == ""
    slices = get(nodes3, "endpointslices", "-n", wns, "-l", "kubernetes.io/service-name=web")["items"]
    assert len(slices) == 1 and slices[0]["addressType"] == "IPv4" and slices[0]["ports"][0]["port"] == 80
    assert sorted(e["addresses"][0] for e in slices[0]["endpoints"]) == ips
    assert all(e["conditions"]["ready"] for e in slices[0]["endpoints"])
    k("scale", "deployment/web", "--replicas=1")
    wait_for("one endpoint", lambda: len(rows(k("get", "endpoints", "web").stdout)[1][1].split(",")) == 1)


def test_deleting_a_namespace_leaves_nothing(nodes3):
    k = nodes3.kubectl
    k("create", "namespace", "gone")
    k("create", "deployment", "web", "--image=nginx", "--replicas=2", "-n", "gone")
    k("expose", "deployment", "web", "--port=80", "-n", "gone")
    k("create", "configmap", "settings", "--from-literal=a=b", "-n", "gone")
    k("rollout", "status", "deployment/web", "-n", "gone", "--timeout=60s")
    k("delete", "namespace", "gone", "--timeout=60s")
    assert k("get", "namespace", "gone", check=False).returncode == 1
    everything = k("get", "pods,rs,deploy,svc,cm,endpoints,endpointslices,sa", "-A", "--field-selector", "metadata.namespace=gone",
                   "-o", "name").stdout
    assert everything.strip() == ""


def test_unschedulable_pod_waits_for_a_node_that_fits(nodes3, wns):
    k = lambda *a, **kw: nodes3.kubectl("-n", wns, *a, **kw)
    k("run", "big", "--image=nginx", "--overrides", json.dumps({"spec": {"containers": [
        {"name": "big", "image": "nginx", "resources": {"requests": {"cpu": "100"}}}]}}))
    message = ("0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: "
               "3 No preemption victims found for incoming pod..")
    cond = wait_for("Unschedulable", lambda: [c for c in get(nodes3, "pod", "big", "-n", wns)["status"].get("conditions", [])
                                            if c["type"] == "PodScheduled" and c.get("reason") == "Unschedulable"])[0]
    assert cond["status"] == "False" and cond["message"] == message
    assert rows(k("get", "pod", "big").stdout)[1][2] == "Pending"
    wait_for("FailedScheduling", lambda: "FailedScheduling" in k("describe", "pod", "big").stdout)
    assert message in k("describe", "pod", "big").stdout

    capacity = {"cpu": "128", "memory": "256Gi", "pods": "110"}
    nodes3.kubectl("create", "-f", "-", input=json.dumps({
        "apiVersion": "v1", "kind": "Node", "metadata": {"name": "big-node", "labels": {"kubernetes.io/hostname": "big-node"}},
        "status": {"capacity": capacity, "allocatable": capacity,
                   "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "ready"}]}}))
    try:
        wait_for("scheduled on big-node", lambda: get(nodes3, "pod", "big", "-n", wns)["spec"].get("nodeName") == "big-node")
    finally:
        k("delete", "pod", "big", "--grace-period=0", "--force", check=False)
        nodes3.kubectl("delete", "node", "big-node")


def test_stopped_node_goes_not_ready_and_its_pods_move(nodes3, wns):
    k = lambda *a, **kw: nodes3.kubectl("-n", wns, *a, **kw)
    k("create", "-f", "-", input="""apiVersion: apps/v1
kind: Deployment
metadata: {name: movable}
spec:
  replicas: 6
  selector: {matchLabels: {app: movable}}
  template:
    metadata: {labels: {app: movable}}
    spec:
      tolerations:
      - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 1}
      containers: [{name: c, image: nginx}]
""")
    k("rollout", "status", "deployment/movable", "--timeout=60s")
    on = lambda node: [p for p in pods_of(nodes3, wns, "app=movable") if p["spec"].get("nodeName") == node]
    victim = "cubby-m03"
    assert on(victim), "spreading puts replicas on every node"
    nodes3.kubectl("annotate", "node", victim, "cubby.dev/simulated-stopped=true")
    try:
        wait_for("NotReady", lambda: rows(nodes3.kubectl("get", "node", victim).stdout)[1][1] == "NotReady")
        taints = get(nodes3, "node", victim)["spec"]["taints"]
        assert {(t["key"], t["effect"]) for t in taints} == {("node.kubernetes.io/unreachable", "NoSchedule"),
                                                             ("node.kubernetes.io/unreachable", "NoExecute")}
        wait_for("evicted", lambda: all(p["metadata"].get("deletionTimestamp") for p in on(victim)))
        k("rollout", "status", "deployment/movable", "--timeout=60s")
        live = [p for p in pods_of(nodes3, wns, "app=movable") if not p["metadata"].get("deletionTimestamp")]
        assert len(live) == 6 and all(p["spec"]["nodeName"] != victim for p in live)
    finally:
        nodes3.kubectl("annotate", "node", victim, "cubby.dev/simulated-stopped-")
    wait_for("Ready again", lambda: rows(nodes3.kubectl("get", "node", victim).stdout)[1][1] == "Ready")
    wait_for("untainted", lambda: not get(nodes3, "node", victim)["spec"].get("taints"))
