"""What every real cluster shows in kube-system: the components running inside localkube as mirror pods (as the
kubelet mirrors kubeadm's static pods), Running 1/1 while they serve, made again when deleted, their restarts counted
when localkube starts again; and simulated pods that go through termination before they go."""
import json
import subprocess
import threading

from conftest import wait_for

COMPONENTS = ["coredns", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "metrics-server", "sqlite"]


def system_pods(cluster):
    return {p["metadata"]["name"]: p for p in json.loads(cluster.kubectl("get", "pods", "-n", "kube-system", "-o", "json").stdout)["items"]}


def test_component_pods_run_in_kube_system_and_come_back_when_deleted(cluster):
    node = "cubby"
    names = [f"{c}-{node}" for c in COMPONENTS]
    wait_for("the component pods", lambda: sorted(system_pods(cluster)) == names)
    table = cluster.kubectl("get", "pods", "-n", "kube-system").stdout.splitlines()
    assert table[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    for row in table[1:]:
        assert row.split()[1:3] == ["1/1", "Running"], row

    pod = system_pods(cluster)[f"kube-apiserver-{node}"]
    annotations = pod["metadata"]["annotations"]
    assert annotations["kubernetes.io/config.source"] == "file"
    assert annotations["kubernetes.io/config.mirror"] == annotations["kubernetes.io/config.hash"]
    assert pod["metadata"]["labels"] == {"component": "kube-apiserver", "tier": "control-plane"}
    owner = pod["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["name"], owner["controller"]) == ("Node", node, True)
    assert pod["spec"]["priorityClassName"] == "system-node-critical" and pod["spec"]["priority"] == 2000001000
    assert "serviceAccountName" not in pod["spec"], "admission leaves a mirror pod's spec alone"
    described = cluster.kubectl("describe", "pod", "-n", "kube-system", f"kube-apiserver-{node}").stdout
    assert "kubernetes.io/config.mirror:" in described and "Controlled By:  Node/cubby" in described
    dns = system_pods(cluster)[f"coredns-{node}"]
    assert dns["metadata"]["labels"]["k8s-app"] == "kube-dns" and dns["spec"]["priorityClassName"] == "system-cluster-critical"

    # Deleted, it comes back (a new pod of the same name), as the kubelet makes a mirror pod again.
    uid = system_pods(cluster)[f"kube-scheduler-{node}"]["metadata"]["uid"]
    cluster.kubectl("delete", "pod", "-n", "kube-system", f"kube-scheduler-{node}", "--timeout=30s")
    wait_for("the scheduler's pod back", lambda: (p := system_pods(cluster).get(f"kube-scheduler-{node}")) is not None
             and p["metadata"]["uid"] != uid and p["status"].get("phase") == "Running")
    # The same for every namespace: a fresh cluster's `kubectl get pods -A` lists them.
    listed = cluster.kubectl("get", "pods", "-A", "--no-headers").stdout
    assert all(f"kube-system   {name}" in listed for name in names), listed


def test_restarts_are_counted_when_localkube_starts_again(fresh_cluster):
    c = fresh_cluster()
    wait_for("the component pods running", lambda: len(pods := system_pods(c)) == len(COMPONENTS)
             and all(p["status"].get("phase") == "Running" for p in pods.values()))
    c.stop()
    c.start()
    def restarted():
        pods = system_pods(c)
        return len(pods) == len(COMPONENTS) and all(p["status"]["containerStatuses"][0]["restartCount"] == 1 for p in pods.values())
    wait_for("each component's restart counted", restarted)
    status = system_pods(c)["kube-apiserver-cubby"]["status"]["containerStatuses"][0]
    assert status["lastState"]["terminated"]["reason"] == "Completed" and status["ready"] is True
    row = c.kubectl("get", "pod", "-n", "kube-system", "kube-apiserver-cubby", "--no-headers").stdout.split()
    assert row[1:4] == ["1/1", "Running", "1"], row


def test_a_deleted_pod_reports_not_ready_before_it_goes(cluster, ns):
    cluster.kubectl("run", "web", "-n", ns, "--image=nginx", "--annotations=cubby.dev/simulated-stop-seconds=2")
    cluster.kubectl("wait", "-n", ns, "--for=condition=Ready", "pod/web", "--timeout=30s")
    # A watch as a client waiting for Ready=False holds it: every event, in order.
    watch = subprocess.Popen(["kubectl", "--kubeconfig", cluster.kubeconfig, "get", "pod", "web", "-n", ns, "--watch", "-o", "json",
                              "--output-watch-events"], stdout=subprocess.PIPE, text=True)
    events = []
    def read():
        for doc in iter_documents(watch.stdout):
            events.append(doc)
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        wait_for("the watch to start", lambda: events)
        cluster.kubectl("delete", "pod", "web", "-n", ns, "--grace-period=5")
        wait_for("the DELETED event", lambda: any(e["type"] == "DELETED" for e in events))
    finally:
        watch.terminate()
        watch.wait()
    kinds = [(e["type"], ready(e["object"])) for e in events]
    deleted = next(i for i, e in enumerate(events) if e["type"] == "DELETED")
    assert ("MODIFIED", "False") in kinds[:deleted], kinds
    last = events[deleted]["object"]
    assert last["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 0
    assert last["status"]["phase"] == "Succeeded"


def ready(pod):
    return next((c["status"] for c in pod["status"].get("conditions", []) if c["type"] == "Ready"), None)


def iter_documents(stream):
    """The JSON documents kubectl writes one after another."""
    decoder, buf = json.JSONDecoder(), ""
    for line in stream:
        buf += line
        while buf.strip():
            try:
                doc, end = decoder.raw_decode(buf.lstrip())
            except ValueError:
                break
            yield doc
            buf = buf.lstrip()[end:]
