"""The controllers' finer behaviour, driven by the real kubectl on simulated nodes: progress
deadlines, revision history and undo for every kind that keeps one, replication controllers,
Jobs that fail, time out, run indexed and expire, and pods that crash."""
import json

from conftest import daemonset_yaml
from test_workloads import get, nodes3, pods_of, rows, wait_for, wns  # noqa: F401 (fixtures)


def events_of(c, ns, name):
    """(type, reason, count) of each event series about `name`, oldest first."""
    items = get(c, "events", "-n", ns, "--field-selector", f"involvedObject.name={name}")["items"]
    items.sort(key=lambda e: e.get("firstTimestamp") or e.get("eventTime") or "")
    return [(e["type"], e["reason"], e.get("count", 1)) for e in items]


def test_deployment_that_cannot_progress_exceeds_its_deadline(nodes3, wns):
    k = lambda *a, **kw: nodes3.kubectl("-n", wns, *a, **kw)
    k("create", "-f", "-", input="""apiVersion: apps/v1
kind: Deployment
metadata: {name: stuck}
spec:
  progressDeadlineSeconds: 2
  replicas: 2
  selector: {matchLabels: {app: stuck}}
  template:
    metadata: {labels: {app: stuck}}
    spec:
      containers: [{name: c, image: nginx, resources: {requests: {cpu: "100"}}}]
""")
    status = k("rollout", "status", "deployment/stuck", "--timeout=30s", check=False)
    assert status.returncode == 1
    assert status.stderr.strip() == 'error: deployment "stuck" exceeded its progress deadline'
    conditions = {c["type"]: c for c in get(nodes3, "deploy", "stuck", "-n", wns)["status"]["conditions"]}
    assert (conditions["Progressing"]["status"], conditions["Progressing"]["reason"]) == ("False", "ProgressDeadlineExceeded")
    assert conditions["Progressing"]["message"].startswith('ReplicaSet "stuck-') and conditions["Progressing"]["message"].endswith('" has timed out progressing.')
    assert (conditions["Available"]["status"], conditions["Available"]["reason"]) == ("False", "MinimumReplicasUnavailable")


def test_recreate_and_revision_history_limit(nodes3, wns):
    k = lambda *a, **kw: nodes3.kubectl("-n", wns, *a, **kw)
    k("create", "deployment", "rec", "--image=nginx:1", "--replicas=2")
    k("patch", "deployment", "rec", "-p", json.dumps({"spec": {"strategy": {"type": "Recreate", "rollingUpdate": None},
                                                              "revisionHistoryLimit": 1}}))
    k("rollout", "status", "deployment/rec", "--timeout=60s")
    # Recreate: every old pod goes before a new one is made, so the two images never run together.
    images = set()
    k("set", "image", "deployment/rec", "nginx=nginx:2")
    def done():
        live = [p for p in pods_of(nodes3, wns, "app=rec") if not p["metadata"].get("deletionTimestamp")]
        images.add(frozenset(p["spec"]["containers"][0]["image"] for p in live))
        return len(live) == 2 and all(p["spec"]["containers"][0]["image"] == "nginx:2" and p["status"].get("phase") == "Running" for p in live)
    wait_for("nginx:2 running", done)
    assert frozenset({"nginx:1", "nginx:2"}) not in images
    k("rollout", "status", "deployment/rec", "--timeout=60s")
    k("set", "image", "deployment/rec", "nginx=nginx:3")
    k("rollout", "status", "deployment/rec", "--timeout=60s")
    # revisionHistoryLimit 1: the current replica set and one old one remain.
    wait_for("history trimmed to one old set", lambda: len(get(nodes3, "rs", "-n", wns, "-l", "app=rec")["items"]) == 2)
    assert [r[0] for r in rows(k("rollout", "history", "deployment/rec").stdout)[2:]] == ["2", "3"]


def test_statefulset_partition_then_undo(nodes3, wns):
    k = lambda *a, **kw: nodes3.kubectl("-n", wns, *a, **kw)
    k("create", "-f", "-", input="""apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  replicas: 3
  podManagementPolicy: Parallel
  updateStrategy: {type: RollingUpdate, rollingUpdate: {partition: 2}}
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: c, image: redis:1}]
""")
    k("rollout", "status", "statefulset/db", "--timeout=60s")
    image = lambda: {p["metadata"]["name"]: p["spec"]["containers"][0]["image"] for p in pods_of(nodes3, wns, "app=db")
                     if not p["metadata"].get("deletionTimestamp")}
    k("set", "image", "statefulset/db", "c=redis:2")
    # Only the ordinals at or above the partition move to the new revision.
    wait_for("db-2 updated", lambda: image() == {"db-0": "redis:1", "db-1": "redis:1", "db-2": "redis:2"})
    assert k("rollout", "status", "statefulset/db", "--timeout=60s").stdout.strip() == "partitioned roll out complete: 1 new pods have been updated..."
    sts = get(nodes3, "sts", "db", "-n", wns)
    assert sts["status"]["currentRevision"] != sts["status"]["updateRevision"]
    assert sts["status"]["updatedReplicas"] == 1 and sts["status"]["currentReplicas"] == 2

    k("patch", "statefulset", "db", "-p", '{"spec":{"updateStrategy":{"rollingUpdate":{"partition":0}}}}')
    wait_for("all on redis:2", lambda: image() == {f"db-{i}": "redis:2" for i in range(3)})
    k("rollout", "status", "statefulset/db", "--timeout=60s")
    assert rows(k("rollout", "history", "statefulset/db").stdout)[2:] == [["1", "<none>"], ["2", "<none>"]]
    k("rollout", "undo", "statefulset/db")
    wait_for("back on redis:1", lambda: image() == {f"db-{i}": "redis:1" for i in range(3)})
    # The first template is current again and so the newest revision, as upstream renumbers it.
    assert rows(k("rollout", "history", "statefulset/db").stdout)[2:] == [["2", "<none>"], ["3", "<none>"]]


def test_daemonset_rolling_update_history_and_undo(nodes3, wns):
    k = lambda *a, **kw: nodes3.kubectl("-n", wns, *a, **kw)
    k("create", "-f", "-", input=daemonset_yaml("agent", "busybox:1"))
    k("rollout", "status", "daemonset/agent", "--timeout=60s")
    images = lambda: sorted((p["spec"]["nodeName"], p["spec"]["containers"][0]["image"]) for p in pods_of(nodes3, wns, "app=agent")
                            if not p["metadata"].get("deletionTimestamp") and p["spec"].get("nodeName"))
    k("set", "image", "daemonset/agent", "c=busybox:2")
    wait_for("every node on busybox:2", lambda: images() == [(n, "busybox:2") for n in ("cubby", "cubby-m02", "cubby-m03")])
    k("rollout", "status", "daemonset/agent", "--timeout=60s")
    assert rows(k("rollout", "history", "daemonset/agent").stdout)[2:] == [["1", "<none>"], ["2", "<none>"]]
    first = k("rollout", "history", "daemonset/agent", "--revision=1").stdout
    assert "daemonset.apps/agent with revision #1" in first and "busybox:1" in first
    revisions = rows(k("get", "controllerrevisions").stdout)
    assert revisions[0][:3] == ["NAME", "CONTROLLER", "REVISION"]
    assert sorted(r[1:3] for r in revisions[1:]) == [["daemonset.apps/agent", "1"], ["daemonset.apps/agent", "2"]]

    assert k("rollout", "undo", "daemonset/agent").stdout.strip() == "daemonset.apps/agent rolled back"
    wait_for("every node on busybox:1 again", lambda: images() == [(n, "busybox:1") for n in ("cubby", "cubby-m02", "cubby-m03")])
    assert rows(k("rollout", "history", "daemonset/agent").stdout)[2:] == [["2", "<none>"], ["3", "<none>"]]


def test_daemonset_pods_stay_on_noschedule_nodes_and_leave_noexecute_ones(nodes3, wns):
    k = lambda *a, **kw: nodes3.kubectl("-n", wns, *a, **kw)
    k("create", "-f", "-", input=daemonset_yaml("keeper"))
    k("rollout", "status", "daemonset/keeper", "--timeout=60s")
    placed = lambda: {p["spec"]["nodeName"]: p["metadata"]["uid"] for p in pods_of(nodes3, wns, "app=keeper")
                      if not p["metadata"].get("deletionTimestamp")}
    before = placed()
    try:
        # NoSchedule keeps new pods off a node but drives none out; NoExecute does (upstream's
        # nodeShouldRunDaemonPod). Status counts as upstream's: the pod left on the NoSchedule
        # node is not desired there, so misscheduled.
        nodes3.kubectl("taint", "node", "cubby-m02", "dedicated=infra:NoSchedule")
        nodes3.kubectl("taint", "node", "cubby-m03", "dedicated=infra:NoExecute")
        wait_for("the pod to leave the NoExecute node", lambda: set(placed()) == {"cubby", "cubby-m02"})
        status = lambda: get(nodes3, "ds", "keeper", "-n", wns)["status"]
        wait_for("one pod desired", lambda: (status()["desiredNumberScheduled"], status()["numberMisscheduled"]) == (1, 1))
        assert placed()["cubby-m02"] == before["cubby-m02"]
    finally:
        nodes3.kubectl("taint", "node", "cubby-m02", "dedicated-", check=False)
        nodes3.kubectl("taint", "node", "cubby-m03", "dedicated-", check=False)
    wait_for("a pod back on the untainted node", lambda: set(placed()) == {"cubby", "cubby-m02", "cubby-m03"})


def test_replication_controller_takes_its_selector_and_labels_from_the_template(nodes3, wns):
    k = lambda *a, **kw: nodes3.kubectl("-n", wns, *a, **kw)
    k("create", "-f", "-", input="""apiVersion: v1
kind: ReplicationController
metadata: {name: legacy}
spec:
  replicas: 2
  template:
    metadata: {labels: {app: legacy}}
    spec:
      containers: [{name: web, image: nginx}]
""")
    rc = get(nodes3, "rc", "legacy", "-n", wns)
    assert rc["spec"]["selector"] == {"app": "legacy"} and rc["metadata"]["labels"] == {"app": "legacy"}
    wait_for("2 ready", lambda: rows(k("get", "rc", "-l", "app=legacy").stdout)[1][1:4] == ["2", "2", "2"])
    k("scale", "rc", "legacy", "--replicas=3")
    wait_for("3 ready", lambda: rows(k("get", "rc", "legacy").stdout)[1][1:4] == ["3", "3", "3"])
    table = rows(k("get", "rc", "legacy", "-o", "wide").stdout)
    assert table[0] == ["NAME", "DESIRED", "CURRENT", "READY", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"]
    assert table[1][5:] == ["web", "nginx", "app=legacy"]
    assert "SuccessfulCreate" in k("describe", "rc", "legacy").stdout


def test_job_fails_past_its_backoff_limit_after_a_delayed_replacement(nodes3, wns):
    k = lambda *a, **kw: nodes3.kubectl("-n", wns, *a, **kw)
    k("create", "-f", "-", input="""apiVersion: batch/v1
kind: Job
metadata: {name: flaky}
spec:
  backoffLimit: 1
  template:
    metadata: {annotations: {cubby.dev/simulated-exit-code: "3"}}
    spec:
      restartPolicy: Never
      containers: [{name: c, image: busybox}]
""")
    k("wait", "--for=condition=failed", "job/flaky", "--timeout=40s")
    pods = sorted(pods_of(nodes3, wns, "job-name=flaky"), key=lambda p: p["metadata"]["creationTimestamp"])
    assert len(pods) == 2 and all(p["status"]["phase"] == "Failed" for p in pods)
    terminated = pods[0]["status"]["containerStatuses"][0]["state"]["terminated"]
    assert (terminated["exitCode"], terminated["reason"]) == (3, "Error")
    # The replacement waits the first back-off step (10 s) after the failure.
    from datetime import datetime
    t = lambda s: datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ")
    assert (t(pods[1]["metadata"]["creationTimestamp"]) - t(terminated["finishedAt"])).total_seconds() >= 9
    assert [r[2] for r in rows(k("get", "pods", "-l", "job-name=flaky").stdout)[1:]] == ["Error", "Error"]
    assert rows(k("get", "job", "flaky").stdout)[1][:3] == ["flaky", "Failed", "0/1"]
    condition = [c for c in get(nodes3, "job", "flaky", "-n", wns)["status"]["conditions"] if c["type"] == "Failed"][0]
    assert (condition["reason"], condition["message"]) == ("BackoffLimitExceeded", "Job has reached the specified backoff limit")
    assert ("Warning", "BackoffLimitExceeded", 1) in events_of(nodes3, wns, "flaky")


def test_job_deadline_indexed_completion_and_ttl(nodes3, wns):
    k = lambda *a, **kw: nodes3.kubectl("-n", wns, *a, **kw)
    k("create", "-f", "-", input="""apiVersion: batch/v1
kind: Job
metadata: {name: slow}
spec:
  activeDeadlineSeconds: 2
  template:
    metadata: {annotations: {cubby.dev/simulated-run-seconds: "60"}}
    spec:
      restartPolicy: Never
      containers: [{name: c, image: busybox}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: indexed}
spec:
  completions: 3
  parallelism: 3
  completionMode: Indexed
  ttlSecondsAfterFinished: 3
  template:
    spec:
      restartPolicy: Never
      containers: [{name: c, image: busybox}]
""")
    k("wait", "--for=condition=complete", "job/indexed", "--timeout=30s")
    job = get(nodes3, "job", "indexed", "-n", wns)
    assert job["status"]["completedIndexes"] == "0-2" and job["status"]["succeeded"] == 3
    pods = pods_of(nodes3, wns, "job-name=indexed")
    assert sorted(p["metadata"]["annotations"]["batch.kubernetes.io/job-completion-index"] for p in pods) == ["0", "1", "2"]
    assert sorted(p["spec"]["hostname"] for p in pods) == ["indexed-0", "indexed-1", "indexed-2"]
    # Completed is said once, however many times the controller looked at the finished Job.
    assert [e for e in events_of(nodes3, wns, "indexed") if e[1] == "Completed"] == [("Normal", "Completed", 1)]

    k("wait", "--for=condition=failed", "job/slow", "--timeout=30s")
    condition = [c for c in get(nodes3, "job", "slow", "-n", wns)["status"]["conditions"] if c["type"] == "Failed"][0]
    assert (condition["reason"], condition["message"]) == ("DeadlineExceeded", "Job was active longer than specified deadline")
    wait_for("the deadline's pod stopped", lambda: not pods_of(nodes3, wns, "job-name=slow"))
    assert [e for e in events_of(nodes3, wns, "slow") if e[1] == "DeadlineExceeded"] == [("Warning", "DeadlineExceeded", 1)]

    # ttlSecondsAfterFinished: the Job and its pods go three seconds after it completed.
    wait_for("the indexed job expired", lambda: k("get", "job", "indexed", check=False).returncode == 1, timeout=30)
    wait_for("its pods collected", lambda: not pods_of(nodes3, wns, "job-name=indexed"))


def test_crashing_container_restarts_with_back_off(nodes3, wns):
    k = lambda *a, **kw: nodes3.kubectl("-n", wns, *a, **kw)
    k("run", "crash", "--image=busybox", "--annotations=cubby.dev/simulated-exit-code=1",
      "--annotations=cubby.dev/simulated-run-seconds=0.5")
    # The first exit restarts at once; the second waits 10 s in CrashLoopBackOff.
    wait_for("CrashLoopBackOff", lambda: rows(k("get", "pod", "crash").stdout)[1][2] == "CrashLoopBackOff")
    row = rows(k("get", "pod", "crash").stdout)[1]
    assert row[1] == "0/1" and row[3] == "2" and row[4].startswith("(") and row[5] == "ago)"
    status = get(nodes3, "pod", "crash", "-n", wns)["status"]
    assert status["phase"] == "Running"
    container = status["containerStatuses"][0]
    assert container["restartCount"] == 2 and container["state"]["waiting"]["message"].startswith("back-off 10s restarting failed container=crash pod=crash_")
    assert (container["lastState"]["terminated"]["exitCode"], container["lastState"]["terminated"]["reason"]) == (1, "Error")
    described = k("describe", "pod", "crash").stdout
    assert "Back-off restarting failed container crash in pod crash_" in described
    # Events are written after the status that tells of them: the second start's may trail it.
    wait_for("the second Started event", lambda: ("Normal", "Started", 2) in events_of(nodes3, wns, "crash"))
    k("delete", "pod", "crash", "--wait=false")


def test_terminating_namespace_says_what_remains_until_its_pods_have_stopped(nodes3):
    k = nodes3.kubectl
    k("create", "namespace", "slow-going")
    k("create", "-n", "slow-going", "-f", "-", input="""apiVersion: apps/v1
kind: Deployment
metadata: {name: lingering}
spec:
  replicas: 2
  selector: {matchLabels: {app: lingering}}
  template:
    metadata: {labels: {app: lingering}, annotations: {cubby.dev/simulated-stop-seconds: "3"}}
    spec:
      containers: [{name: c, image: nginx}]
""")
    k("rollout", "status", "deployment/lingering", "-n", "slow-going", "--timeout=60s")
    k("delete", "namespace", "slow-going", "--wait=false")
    # The pods are given their grace period, so the namespace waits for them, and says so.
    def remaining():
        ns = get(nodes3, "namespace", "slow-going")
        conditions = {c["type"]: c for c in ns["status"].get("conditions", [])}
        return ns["status"]["phase"] == "Terminating" and conditions.get("NamespaceContentRemaining", {}).get("status") == "True" and conditions
    conditions = wait_for("content remaining", remaining, timeout=10)
    assert conditions["NamespaceContentRemaining"]["reason"] == "SomeResourcesRemain"
    assert "pods. has 2 resource instances" in conditions["NamespaceContentRemaining"]["message"]
    assert (conditions["NamespaceDeletionContentFailure"]["status"], conditions["NamespaceDeletionContentFailure"]["reason"]) == ("False", "ContentDeleted")
    assert rows(k("get", "namespace", "slow-going").stdout)[1][1] == "Terminating"
    assert "NamespaceContentRemaining" in k("describe", "namespace", "slow-going").stdout
    assert all(p["metadata"].get("deletionTimestamp") for p in pods_of(nodes3, "slow-going", "app=lingering"))
    k("wait", "--for=delete", "namespace/slow-going", "--timeout=30s")
    assert k("get", "namespace", "slow-going", check=False).returncode == 1


def test_cordoned_node_is_tainted_and_skipped_until_uncordoned(nodes3, wns):
    k = lambda *a, **kw: nodes3.kubectl("-n", wns, *a, **kw)
    node = "cubby-m02"
    nodes3.kubectl("cordon", node)
    try:
        assert rows(nodes3.kubectl("get", "node", node).stdout)[1][1] == "Ready,SchedulingDisabled"
        wait_for("the unschedulable taint", lambda: get(nodes3, "node", node)["spec"].get("taints") == [
            {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}])
        k("run", "pinned", "--image=nginx", "--overrides", json.dumps({"spec": {"nodeSelector": {"kubernetes.io/hostname": node}}}))
        # Each node is refused by the first filter that fails it, as upstream's plugins run in order.
        message = ("0/3 nodes are available: 1 node(s) were unschedulable, 2 node(s) didn't match Pod's node affinity/selector. "
                   "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling..")
        wait_for("Unschedulable", lambda: any(c.get("message") == message for c in get(nodes3, "pod", "pinned", "-n", wns)["status"].get("conditions", [])))
    finally:
        nodes3.kubectl("uncordon", node)
    wait_for("scheduled once uncordoned", lambda: get(nodes3, "pod", "pinned", "-n", wns)["spec"].get("nodeName") == node)
    wait_for("the taint gone", lambda: not get(nodes3, "node", node)["spec"].get("taints"))


def test_disruption_budget_guards_evictions_and_drain(nodes3, wns):
    k = lambda *a, **kw: nodes3.kubectl("-n", wns, *a, **kw)
    k("create", "deployment", "guarded", "--image=nginx", "--replicas=3")
    k("rollout", "status", "deployment/guarded", "--timeout=60s")
    k("create", "pdb", "guarded", "--selector=app=guarded", "--min-available=3")
    k("create", "pdb", "half", "--selector=app=guarded", "--max-unavailable=50%")
    wait_for("budgets observed", lambda: all(b["status"].get("observedGeneration") == 1 for b in get(nodes3, "pdb", "-n", wns)["items"]))
    table = rows(k("get", "pdb").stdout)
    assert table[0] == ["NAME", "MIN", "AVAILABLE", "MAX", "UNAVAILABLE", "ALLOWED", "DISRUPTIONS", "AGE"]
    assert [r[:4] for r in table[1:]] == [["guarded", "3", "N/A", "0"], ["half", "N/A", "50%", "2"]]
    # 50% of the Deployment's 3 replicas, rounded up, may be unavailable: one must stay.
    half = get(nodes3, "pdb", "half", "-n", wns)["status"]
    assert (half["expectedPods"], half["desiredHealthy"], half["currentHealthy"], half["disruptionsAllowed"]) == (3, 1, 3, 2)
    k("delete", "pdb", "half")

    pod = pods_of(nodes3, wns, "app=guarded")[0]
    name, node = pod["metadata"]["name"], pod["spec"]["nodeName"]
    eviction = json.dumps({"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": name, "namespace": wns}})
    refused = k("create", "--raw", f"/api/v1/namespaces/{wns}/pods/{name}/eviction", "-f", "-", input=eviction, check=False)
    assert refused.returncode == 1
    assert refused.stderr.strip() == "Error from server (TooManyRequests): Cannot evict pod as it would violate the pod's disruption budget."
    assert get(nodes3, "pdb", "guarded", "-n", wns)["status"]["conditions"][0]["reason"] == "InsufficientPods"

    k("patch", "pdb", "guarded", "--type=merge", "-p", '{"spec":{"minAvailable":2}}')
    wait_for("one disruption allowed", lambda: rows(k("get", "pdb", "guarded").stdout)[1][3] == "1")
    try:
        drained = nodes3.kubectl("drain", node, "--pod-selector=app=guarded", "--timeout=30s")
        assert f"evicting pod {wns}/{name}" in drained.stderr + drained.stdout
        assert f"pod/{name} evicted" in drained.stdout and f"node/{node} drained" in drained.stdout
        wait_for("a replacement elsewhere, all ready", lambda: (lambda live: len(live) == 3 and all(
            p["spec"].get("nodeName") not in (None, node) and p["status"].get("phase") == "Running" for p in live))(
            [p for p in pods_of(nodes3, wns, "app=guarded") if not p["metadata"].get("deletionTimestamp")]))
        wait_for("the budget healthy again", lambda: get(nodes3, "pdb", "guarded", "-n", wns)["status"].get("currentHealthy") == 3)
        status = get(nodes3, "pdb", "guarded", "-n", wns)["status"]
        assert status["disruptionsAllowed"] == 1 and "disruptedPods" not in status
    finally:
        nodes3.kubectl("uncordon", node)
    described = k("describe", "pdb", "guarded").stdout
    assert "Min available:  2" in described and "Allowed disruptions:  1" in described


def test_every_namespace_keeps_its_default_account_and_root_ca(nodes3, wns):
    k = lambda *a, **kw: nodes3.kubectl("-n", wns, *a, **kw)
    wait_for("kube-root-ca.crt", lambda: k("get", "configmap", "kube-root-ca.crt", check=False).returncode == 0)
    ca = get(nodes3, "configmap", "kube-root-ca.crt", "-n", wns)["data"]["ca.crt"]
    assert ca.startswith("-----BEGIN CERTIFICATE-----")
    k("delete", "configmap", "kube-root-ca.crt")
    wait_for("kube-root-ca.crt put back", lambda: k("get", "configmap", "kube-root-ca.crt", check=False).returncode == 0)
    k("patch", "configmap", "kube-root-ca.crt", "-p", '{"data":{"ca.crt":"tampered"}}')
    wait_for("its CA restored", lambda: get(nodes3, "configmap", "kube-root-ca.crt", "-n", wns)["data"]["ca.crt"] == ca)
    k("delete", "serviceaccount", "default")
    wait_for("default account put back", lambda: k("get", "serviceaccount", "default", check=False).returncode == 0)
