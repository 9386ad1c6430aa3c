"""Real pods on the containerd driver, driven with the real kubectl as a newcomer would: pods run as
containers on the cluster's own bridge, restart as their policy says, probe, mount volumes, pull (or
fail to), survive a killed localkube, and leave nothing behind once the cluster is deleted.

Images come from scripts/build-test-images.py (Debian's busybox-static) and `cubby image load`; no
registry is reached. Every address a test talks to is a pod's, on the cluster's bridge."""
import ipaddress
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from realpods import BUSYBOX, Profile, eventually, fetch, make_profile, run_to_completion, terminated
from realpods import node, ns  # noqa: F401 (fixtures)

pytestmark = pytest.mark.skipif(sys.platform != "linux" or os.geteuid() != 0, reason="real pods need Linux and root")


def test_a_pod_runs_as_a_container_reachable_from_the_host_and_from_pods(node, ns):
    node.kubectl("run", "web", "-n", ns, f"--image={BUSYBOX}", "--", "httpd", "-f", "-p", "8080")
    node.wait("--for=condition=Ready", "pod/web", "-n", ns)
    pod = node.get("pod", "web", "-n", ns)
    nodes = node.get("nodes")["items"]
    assert [n["metadata"]["name"] for n in nodes] == [node.name]
    cidr = ipaddress.ip_network(nodes[0]["spec"]["podCIDR"])
    ip = pod["status"]["podIP"]
    assert ipaddress.ip_address(ip) in cidr
    assert pod["status"]["hostIP"] == [a["address"] for a in nodes[0]["status"]["addresses"] if a["type"] == "InternalIP"][0]
    status = pod["status"]["containerStatuses"][0]
    assert status["containerID"].startswith("containerd://") and status["imageID"]
    assert status["image"] == "docker.io/library/busybox:1.35" and status["state"]["running"]["startedAt"]

    # The host fetches a page; so does another pod.
    assert fetch(f"http://{ip}:8080/etc/hostname") == "web\n"
    assert run_to_completion(node, ns, "client", f"wget -q -O- http://{ip}:8080/etc/hostname") == "web\n"

    # The node reports the real machine, the runtime and the images it holds.
    info = nodes[0]["status"]["nodeInfo"]
    assert info["containerRuntimeVersion"].startswith("containerd://") and info["kernelVersion"] == os.uname().release
    assert int(nodes[0]["status"]["capacity"]["cpu"]) == os.cpu_count()
    eventually(lambda: any("docker.io/library/busybox:1.35" in i["names"] for i in node.get("node", node.name)["status"]["images"]),
               timeout=30, what="the loaded image in the node's status")
    wide = node.kubectl("get", "pod", "web", "-n", ns, "-o", "wide").stdout.splitlines()
    assert wide[1].split()[:3] == ["web", "1/1", "Running"] and ip in wide[1] and node.name in wide[1]
    events = node.kubectl("get", "events", "-n", ns, "--field-selector", "involvedObject.name=web",
                          "-o", "jsonpath={range .items[*]}{.reason}: {.message}{'\\n'}{end}").stdout
    assert "Created: Created container: web" in events and "Started: Started container web" in events


def test_deployment_is_ready_restarts_into_new_containers_and_scales_to_zero(node, ns):
    node.kubectl("create", "deployment", "web", "-n", ns, f"--image={BUSYBOX}", "--replicas=3", "--", "httpd", "-f", "-p", "8080")
    node.kubectl("rollout", "status", "deployment/web", "-n", ns, "--timeout=90s", timeout=120)
    pods = node.get("pods", "-n", ns, "-l", "app=web")["items"]
    assert len(pods) == 3 and all(p["status"]["phase"] == "Running" for p in pods)
    before = {p["status"]["containerStatuses"][0]["containerID"].removeprefix("containerd://") for p in pods}
    assert before <= node.containers()

    node.kubectl("rollout", "restart", "deployment/web", "-n", ns)
    node.kubectl("rollout", "status", "deployment/web", "-n", ns, "--timeout=120s", timeout=150)

    def replaced():
        items = node.get("pods", "-n", ns, "-l", "app=web")["items"]
        ready = [p for p in items if p["metadata"].get("deletionTimestamp") is None
                 and any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"].get("conditions", []))]
        return ready if len(items) == 3 and len(ready) == 3 else None
    after_pods = eventually(replaced, what="three new ready pods")
    after = {p["status"]["containerStatuses"][0]["containerID"].removeprefix("containerd://") for p in after_pods}
    assert not after & before
    for p in after_pods:
        assert fetch(f"http://{p['status']['podIP']}:8080/etc/hostname") == p["metadata"]["name"] + "\n"

    node.kubectl("scale", "deployment/web", "-n", ns, "--replicas=0")
    eventually(lambda: not node.get("pods", "-n", ns, "-l", "app=web")["items"], timeout=120, what="no pods")
    assert not (after | before) & node.containers()


def test_restart_policies_crash_loop_back_off_failure_and_completion(node, ns):
    node.kubectl("run", "crash", "-n", ns, f"--image={BUSYBOX}", "--", "sh", "-c", "exit 1")
    node.kubectl("run", "fail", "-n", ns, f"--image={BUSYBOX}", "--restart=Never", "--", "sh", "-c", "exit 1")
    node.kubectl("create", "job", "done", "-n", ns, f"--image={BUSYBOX}", "--", "sh", "-c", "exit 0")

    def crash_looping():
        s = node.get("pod", "crash", "-n", ns)["status"]["containerStatuses"][0]
        return s if s["restartCount"] >= 2 and s["state"].get("waiting", {}).get("reason") == "CrashLoopBackOff" else None
    s = eventually(crash_looping, timeout=60, what="CrashLoopBackOff with two restarts")
    assert s["lastState"]["terminated"]["exitCode"] == 1 and s["lastState"]["terminated"]["reason"] == "Error"
    # The back-off doubles with each restart: 10 s before the second, 20 s before the third, ... (a
    # slow poll may first see the pod a restart later than the second).
    backoff = {2: "20s", 3: "40s"}[s["restartCount"]]
    assert s["state"]["waiting"]["message"].startswith(f"back-off {backoff} restarting failed container=crash pod=crash_"), s
    assert node.kubectl("get", "pod", "crash", "-n", ns).stdout.splitlines()[1].split()[2] == "CrashLoopBackOff"

    node.wait("--for=jsonpath={.status.phase}=Failed", "pod/fail", "-n", ns)
    t = node.get("pod", "fail", "-n", ns)["status"]["containerStatuses"][0]["state"]["terminated"]
    assert (t["exitCode"], t["reason"]) == (1, "Error")
    assert node.kubectl("get", "pod", "fail", "-n", ns).stdout.splitlines()[1].split()[1:3] == ["0/1", "Error"]
    node.wait("--for=condition=complete", "job/done", "-n", ns)


def test_readiness_waits_for_the_file_and_liveness_restarts_the_container(node, ns, tmp_path):
    signals = tmp_path / "signals"
    signals.mkdir()
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "probed", "namespace": ns},
           "spec": {"terminationGracePeriodSeconds": 1,
                    "volumes": [{"name": "signals", "hostPath": {"path": str(signals)}}],
                    "containers": [{"name": "web", "image": BUSYBOX, "command": ["httpd", "-f", "-p", "8080", "-h", "/www"],
                                    "volumeMounts": [{"name": "signals", "mountPath": "/www"}],
                                    "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}, "periodSeconds": 1},
                                    "livenessProbe": {"exec": {"command": ["test", "!", "-e", "/www/dead"]},
                                                      "periodSeconds": 1, "failureThreshold": 2}}]}}
    node.kubectl("apply", "-f", "-", input=json.dumps(pod))
    node.wait("--for=jsonpath={.status.phase}=Running", "pod/probed", "-n", ns)
    time.sleep(3)
    status = node.get("pod", "probed", "-n", ns)["status"]
    assert status["containerStatuses"][0]["ready"] is False
    assert {c["type"]: c["status"] for c in status["conditions"]}["Ready"] == "False"

    (signals / "ready").write_text("ok")
    node.wait("--for=condition=Ready", "pod/probed", "-n", ns, timeout=30)

    (signals / "dead").write_text("")
    s = eventually(lambda: (s := node.get("pod", "probed", "-n", ns)["status"]["containerStatuses"][0])["restartCount"] >= 1 and s,
                   timeout=60, what="a restart after the liveness probe failed")
    (signals / "dead").unlink()
    assert s["lastState"]["terminated"]["exitCode"] in (137, 143)
    events = node.kubectl("get", "events", "-n", ns, "-o", "jsonpath={range .items[*]}{.reason}|{.message}{'\\n'}{end}").stdout
    assert "Unhealthy|Liveness probe failed: " in events
    assert "Unhealthy|Readiness probe failed: HTTP probe failed with statuscode: 404" in events
    assert "Killing|Container web failed liveness probe, will be restarted" in events
    node.wait("--for=condition=Ready", "pod/probed", "-n", ns, timeout=60)


def test_a_busy_node_keeps_its_probes_passing(node, ns):
    # Ten pods probed every second make the kubelet call containerd over ten times a second.
    # containerd answers most requests with a PING, and swift-nio-http2 drops a connection that
    # receives over 200 in 30 s: every probe in flight then failed at once, with
    # "rpc error: code = Unavailable desc = Stream unexpectedly closed.", and the pods turned unready.
    deployment = json.loads(node.kubectl("create", "deployment", "busy", "-n", ns, f"--image={BUSYBOX}", "--replicas=10",
                                         "--dry-run=client", "-o", "json", "--", "sleep", "3600").stdout)
    deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] = 0
    # A generous timeout: a slow exec on a loaded machine is not what this looks for.
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbe"] = {
        "exec": {"command": ["true"]}, "periodSeconds": 1, "timeoutSeconds": 20, "failureThreshold": 1}
    node.kubectl("apply", "-f", "-", input=json.dumps(deployment))
    node.kubectl("rollout", "status", "deployment/busy", "-n", ns, "--timeout=120s", timeout=150)
    time.sleep(30)
    events = node.kubectl("get", "events", "-n", ns, "-o", "jsonpath={range .items[*]}{.reason}: {.message}{'\\n'}{end}").stdout
    assert "Unhealthy" not in events, events
    assert node.get("deployment", "busy", "-n", ns)["status"]["readyReplicas"] == 10


def test_environment_and_volumes(node, ns, tmp_path):
    node.kubectl("create", "configmap", "settings", "-n", ns, "--from-literal=greeting=hello", "--from-literal=color=blue")
    node.kubectl("create", "secret", "generic", "creds", "-n", ns, "--from-literal=password=s3cret")
    env = run_to_completion(node, ns, "env", "echo $GREETING $PASSWORD $CFG_color $POD $COMBINED", env=[
        {"name": "GREETING", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "greeting"}}},
        {"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "password"}}},
        {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": "COMBINED", "value": "$(GREETING)-$(POD)"}],
        envFrom=[{"prefix": "CFG_", "configMapRef": {"name": "settings"}}])
    assert env == "hello s3cret blue env hello-env\n"

    # A configMap volume follows its ConfigMap; the pod copies what it sees to a host folder.
    out = tmp_path / "out"
    out.mkdir()
    watcher = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "watcher", "namespace": ns},
               "spec": {"terminationGracePeriodSeconds": 1,
                        "volumes": [{"name": "settings", "configMap": {"name": "settings"}},
                                    {"name": "out", "hostPath": {"path": str(out)}}],
                        "containers": [{"name": "main", "image": BUSYBOX,
                                        "command": ["sh", "-c", "while true; do cat /etc/settings/greeting > /out/greeting.tmp; "
                                                    "mv /out/greeting.tmp /out/greeting; sleep 0.5; done"],
                                        "volumeMounts": [{"name": "settings", "mountPath": "/etc/settings"},
                                                         {"name": "out", "mountPath": "/out"}]}]}}
    node.kubectl("apply", "-f", "-", input=json.dumps(watcher))
    eventually(lambda: (out / "greeting").exists() and (out / "greeting").read_text() == "hello", what="the mounted value")
    node.kubectl("patch", "configmap", "settings", "-n", ns, "-p", '{"data":{"greeting":"bonjour"}}')
    eventually(lambda: (out / "greeting").read_text() == "bonjour", timeout=60, what="the updated value in the pod")

    # The default service-account token works against the API server from inside the pod.
    endpoint = node.get("endpoints", "kubernetes", "-n", "default")["subsets"][0]
    address = f"{endpoint['addresses'][0]['ip']}:{endpoint['ports'][0]['port']}"
    review = run_to_completion(node, ns, "whoami", (
        "wget -q -O- --no-check-certificate --header \"Authorization: Bearer "
        "$(cat /var/run/secrets/kubernetes.io/serviceaccount/token)\" --header 'Content-Type: application/json' "
        "--post-data '{\"apiVersion\":\"authentication.k8s.io/v1\",\"kind\":\"SelfSubjectReview\"}' "
        f"https://{address}/apis/authentication.k8s.io/v1/selfsubjectreviews"))
    assert json.loads(review)["status"]["userInfo"]["username"] == f"system:serviceaccount:{ns}:default"
    files = run_to_completion(node, ns, "sa-files", "cat /var/run/secrets/kubernetes.io/serviceaccount/namespace; "
                              "head -1 /var/run/secrets/kubernetes.io/serviceaccount/ca.crt")
    assert files == f"{ns}-----BEGIN CERTIFICATE-----\n"

    # emptyDir shared between two containers.
    shared = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "shared", "namespace": ns},
              "spec": {"restartPolicy": "Never", "volumes": [{"name": "scratch", "emptyDir": {}}],
                       "containers": [
                           {"name": "writer", "image": BUSYBOX, "command": ["sh", "-c", "echo from-writer > /scratch/note"],
                            "volumeMounts": [{"name": "scratch", "mountPath": "/scratch"}]},
                           {"name": "reader", "image": BUSYBOX,
                            "command": ["sh", "-c", "until [ -e /scratch/note ]; do sleep 0.2; done; cat /scratch/note > /dev/termination-log"],
                            "volumeMounts": [{"name": "scratch", "mountPath": "/scratch"}]}]}}
    node.kubectl("apply", "-f", "-", input=json.dumps(shared))
    node.wait("--for=jsonpath={.status.phase}=Succeeded", "pod/shared", "-n", ns)
    statuses = {c["name"]: c for c in node.get("pod", "shared", "-n", ns)["status"]["containerStatuses"]}
    assert statuses["reader"]["state"]["terminated"]["message"] == "from-writer\n"

    # A claim of the standard class keeps its data across pods.
    claim = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data", "namespace": ns},
             "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Mi"}}}}
    node.kubectl("apply", "-f", "-", input=json.dumps(claim))
    node.wait("--for=jsonpath={.status.phase}=Bound", "pvc/data", "-n", ns)
    volume = {"volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}]}
    mount = [{"name": "data", "mountPath": "/data"}]

    def with_claim(name, script):
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns},
               "spec": {"restartPolicy": "Never", **volume,
                        "containers": [{"name": "main", "image": BUSYBOX, "volumeMounts": mount,
                                        "command": ["sh", "-c", f"({script}) > /dev/termination-log"]}]}}
        node.kubectl("apply", "-f", "-", input=json.dumps(pod))
        return terminated(node, ns, name)["message"]
    with_claim("first", "echo kept > /data/file; echo written")
    node.kubectl("delete", "pod", "first", "-n", ns)
    assert with_claim("second", "cat /data/file") == "kept\n"


def test_image_and_command_failures_are_reported_and_harm_no_one(node, ns):
    node.kubectl("run", "steady", "-n", ns, f"--image={BUSYBOX}", "--", "sleep", "3600")
    # The registry is this machine's loopback, where nothing listens: the pull fails at once.
    node.kubectl("run", "unpullable", "-n", ns, "--image=127.0.0.1:9/nothing:1")
    node.kubectl("run", "never", "-n", ns, "--image=busybox:9.9", "--image-pull-policy=Never")
    node.kubectl("run", "badcmd", "-n", ns, f"--image={BUSYBOX}", "--", "/no/such/program")

    def waiting(name):
        return node.get("pod", name, "-n", ns)["status"]["containerStatuses"][0]["state"].get("waiting", {})

    reasons = set()
    eventually(lambda: reasons.add(waiting("unpullable").get("reason")) or "ImagePullBackOff" in reasons, timeout=60,
               interval=0.1, what="ImagePullBackOff")
    w = waiting("unpullable")
    assert w["message"].startswith('Back-off pulling image "127.0.0.1:9/nothing:1": ErrImagePull: ')
    assert "connection refused" in w["message"]
    events = node.kubectl("get", "events", "-n", ns, "--field-selector", "involvedObject.name=unpullable",
                          "-o", "jsonpath={range .items[*]}{.reason}|{.message}{'\\n'}{end}").stdout
    assert 'Failed|Failed to pull image "127.0.0.1:9/nothing:1": ' in events and "Failed|Error: ErrImagePull" in events
    assert 'BackOff|Back-off pulling image "127.0.0.1:9/nothing:1"' in events

    eventually(lambda: waiting("never").get("reason") == "ErrImageNeverPull", what="ErrImageNeverPull")
    assert waiting("never")["message"] == 'Container image "busybox:9.9" is not present with pull policy of Never'

    s = eventually(lambda: (s := node.get("pod", "badcmd", "-n", ns)["status"]["containerStatuses"][0])["restartCount"] >= 1 and s,
                   what="a restart of the container that could not start")
    last = s["lastState"]["terminated"]
    assert (last["exitCode"], last["reason"]) == (128, "StartError")
    assert 'exec: "/no/such/program"' in last["message"]
    assert s["state"]["waiting"]["reason"] in ("CrashLoopBackOff", "RunContainerError")

    node.wait("--for=condition=Ready", "pod/steady", "-n", ns)
    assert node.get("pod", "steady", "-n", ns)["status"]["containerStatuses"][0]["restartCount"] == 0


def leftovers(p, network):
    """What of the profile is still in the machine: processes, links, mounts, rules, cgroups, files."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if p.socket in cmdline or str(p.directory) in cmdline:
            found.append(f"process {pid}: {cmdline}")
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    found += [f"link {l}" for l in links.splitlines() if network["bridge"] in l]
    found += [f"mount {m}" for m in Path("/proc/mounts").read_text().splitlines()
              if f"/run/cubby/{p.name}" in m or str(p.directory) in m]
    found += [f"netns {n}" for n in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout.splitlines()]
    rules = subprocess.run(["iptables-save"], capture_output=True, text=True).stdout
    found += [f"rule {r}" for r in rules.splitlines() if f"cubby-{p.name}" in r]
    tables = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True).stdout
    found += [f"nftables {t}" for t in tables.splitlines() if f"cubby-{p.name}" in t]
    routes = subprocess.run(["ip", "route"], capture_output=True, text=True).stdout
    found += [f"route {r}" for r in routes.splitlines() if network["bridge"] in r]
    found += [f"cgroup {c}" for c in Path("/sys/fs/cgroup").glob(f"*/cubby-{p.name}")]
    found += [f"cgroup {c}" for c in Path("/sys/fs/cgroup").glob(f"cubby-{p.name}")]
    if Path(f"/run/cubby/{p.name}").exists():
        found.append(f"/run/cubby/{p.name}")
    if p.directory.exists():
        found.append(str(p.directory))
    return found


def test_killed_stopped_and_deleted(node, tmp_path, images):
    """A second profile beside the module's: its own bridge and pod CIDR; it survives kill -9 with the same
    containers, comes back after stop and start, and leaves nothing once deleted."""
    p = make_profile(tmp_path / "home", images, "life")
    try:
        mine, theirs = (json.loads((q.directory / "network.json").read_text()) for q in (p, node))
        assert mine["bridge"] != theirs["bridge"]
        assert not ipaddress.ip_network(mine["podCIDR"]).overlaps(ipaddress.ip_network(theirs["podCIDR"]))
        assert not ipaddress.ip_network(mine["serviceCIDR"]).overlaps(ipaddress.ip_network(theirs["serviceCIDR"]))

        p.kubectl("create", "deployment", "web", f"--image={BUSYBOX}", "--replicas=2", "--", "httpd", "-f", "-p", "8080")
        p.kubectl("rollout", "status", "deployment/web", "--timeout=90s", timeout=120)
        pods = p.get("pods", "-l", "app=web")["items"]
        assert all(ipaddress.ip_address(x["status"]["podIP"]) in ipaddress.ip_network(mine["podCIDR"]) for x in pods)
        ids = {x["metadata"]["name"]: x["status"]["containerStatuses"][0]["containerID"] for x in pods}
        before = p.containers()

        os.kill(int((p.directory / "localkube.pid").read_text()), 9)
        time.sleep(0.5)
        p.cubby("start")
        p.wait("--for=condition=Ready", "pod", "-l", "app=web")
        pods = p.get("pods", "-l", "app=web")["items"]
        assert {x["metadata"]["name"]: x["status"]["containerStatuses"][0]["containerID"] for x in pods} == ids
        assert p.containers() == before, "no container was started twice"
        for x in pods:
            assert fetch(f"http://{x['status']['podIP']}:8080/etc/hostname") == x["metadata"]["name"] + "\n"

        assert p.cubby("stop").stdout.splitlines()[-1] == "🛑  1 node stopped."
        assert not [f for f in leftovers(p, mine) if not f.startswith(("/run/cubby", str(p.directory)))]
        p.cubby("start")
        # Until the kubelet's first sync the pods still show their status from before the stop.
        p.wait("--for=jsonpath={.status.containerStatuses[0].restartCount}=1", "pod", "-l", "app=web")
        p.wait("--for=condition=Ready", "pod", "-l", "app=web")
        for x in p.get("pods", "-l", "app=web")["items"]:
            s = x["status"]["containerStatuses"][0]
            assert s["restartCount"] == 1 and s["containerID"] not in ids.values()
            assert s["lastState"]["terminated"]["reason"] == "Unknown"
            assert fetch(f"http://{x['status']['podIP']}:8080/etc/hostname") == x["metadata"]["name"] + "\n"

        # Killed again, then deleted: nothing of it stays in the machine.
        os.kill(int((p.directory / "localkube.pid").read_text()), 9)
        assert p.cubby("delete").stdout.splitlines()[-1] == f'💀  Removed all traces of the "{p.name}" cluster.'
        assert leftovers(p, mine) == []
    finally:
        p.cubby("delete", check=False)


def test_start_without_containerd_fails_or_falls_back(tmp_path):
    empty = tmp_path / "bin"
    empty.mkdir()
    p = Profile(tmp_path / "home", "nocontainerd")
    r = p.cubby("start", "--driver", "containerd", "--port", str(p.port), check=False, env={"PATH": str(empty)})
    assert r.returncode == 1 and r.stdout.splitlines()[0].startswith("😄  cubby")
    assert r.stderr.splitlines() == [
        "❌  the containerd driver cannot run here: containerd, ctr, runc, iptables, ip, nft not found; "
        "install with: sudo scripts/install-runtime.sh"]
    assert not p.directory.exists()

    out = p.cubby("start", "--port", str(p.port), env={"PATH": str(empty)}).stdout.splitlines()
    try:
        assert ("✨  Using the simulated driver: containerd, ctr, runc, iptables, ip, nft not found; "
                "install with: sudo scripts/install-runtime.sh") in out
        assert "🖥️   Nodes: 1 simulated (pods run no processes)" in out
        assert json.loads((p.directory / "config.json").read_text())["driver"] == "simulated"
    finally:
        p.cubby("delete", env={"PATH": str(empty)})


def test_init_containers_hooks_and_deadline(node, ns, tmp_path):
    out = tmp_path / "hooks"
    out.mkdir()
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "ordered", "namespace": ns},
           "spec": {"terminationGracePeriodSeconds": 5,
                    "volumes": [{"name": "work", "emptyDir": {"medium": "Memory"}}, {"name": "out", "hostPath": {"path": str(out)}}],
                    "initContainers": [
                        {"name": "first", "image": BUSYBOX, "command": ["sh", "-c", "echo one > /work/log"],
                         "volumeMounts": [{"name": "work", "mountPath": "/work"}]},
                        {"name": "second", "image": BUSYBOX, "command": ["sh", "-c", "echo two >> /work/log"],
                         "volumeMounts": [{"name": "work", "mountPath": "/work"}]}],
                    "containers": [{
                        "name": "main", "image": BUSYBOX, "volumeMounts": [{"name": "work", "mountPath": "/work"}, {"name": "out", "mountPath": "/out"}],
                        "command": ["sh", "-c", "trap 'exit 0' TERM; until [ -e /work/started ]; do sleep 0.1; done; "
                                    "cat /work/log /work/started > /out/seen; grep -q /work /proc/mounts && echo tmpfs >> /out/seen; "
                                    "while true; do sleep 0.2; done"],
                        # Written aside, then renamed: the main container must not read the file before it holds the line.
                        "lifecycle": {"postStart": {"exec": {"command": ["sh", "-c", "echo hook > /work/.started && mv /work/.started /work/started"]}},
                                      "preStop": {"exec": {"command": ["sh", "-c", "echo stopping > /out/prestop"]}}}}]}}
    node.kubectl("apply", "-f", "-", input=json.dumps(pod))
    node.wait("--for=condition=Ready", "pod/ordered", "-n", ns)
    eventually(lambda: (out / "seen").exists() and (out / "seen").read_text() == "one\ntwo\nhook\ntmpfs\n", what="init order and the hook")
    inits = node.get("pod", "ordered", "-n", ns)["status"]["initContainerStatuses"]
    assert [(s["name"], s["state"]["terminated"]["reason"]) for s in inits] == [("first", "Completed"), ("second", "Completed")]
    node.kubectl("delete", "pod", "ordered", "-n", ns)
    assert (out / "prestop").read_text() == "stopping\n"

    node.kubectl("run", "deadline", "-n", ns, f"--image={BUSYBOX}", "--overrides",
                 json.dumps({"spec": {"activeDeadlineSeconds": 2, "terminationGracePeriodSeconds": 1}}), "--", "sleep", "3600")
    node.wait("--for=jsonpath={.status.phase}=Failed", "pod/deadline", "-n", ns, timeout=60)
    status = node.get("pod", "deadline", "-n", ns)["status"]
    assert (status["reason"], status["message"]) == ("DeadlineExceeded", "Pod was active on the node longer than the specified deadline")
