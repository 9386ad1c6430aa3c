"""What localkube keeps across a clean restart and across kill -9."""
import signal
import threading
import time

from kubernetes import client, config


def api_for(cluster):
    return client.CoreV1Api(config.new_client_from_config(config_file=cluster.kubeconfig))


def test_restart_on_the_same_data_dir_keeps_everything(fresh_cluster):
    c = fresh_cluster()
    c.kubectl("create", "-f", "-", input="apiVersion: v1\nkind: Namespace\nmetadata: {name: kept}\n")
    # The namespace's kube-root-ca.crt is published by a controller: wait for it, so it is in both reads.
    for _ in range(100):
        if c.kubectl("get", "cm", "-n", "kept", "kube-root-ca.crt", check=False).returncode == 0:
            break
        time.sleep(0.05)
    for i in range(5):
        c.kubectl("create", "-n", "kept", "-f", "-", input=f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i}}}\ndata: {{i: '{i}'}}\n")
    before = c.kubectl("get", "cm", "-n", "kept", "-o", "custom-columns=N:.metadata.name,RV:.metadata.resourceVersion,UID:.metadata.uid").stdout
    c.stop()
    c.start()
    after = c.kubectl("get", "cm", "-n", "kept", "-o", "custom-columns=N:.metadata.name,RV:.metadata.resourceVersion,UID:.metadata.uid").stdout
    assert after == before and before.count("\n") == 7
    # New writes continue the revision sequence rather than reusing it.
    new = c.kubectl("create", "-n", "kept", "-f", "-", "-o", "jsonpath={.metadata.resourceVersion}",
                    input="apiVersion: v1\nkind: ConfigMap\nmetadata: {name: new}\n").stdout
    assert int(new) > max(int(line.split()[1]) for line in before.splitlines()[1:])


def test_kill_9_during_a_write_burst_keeps_every_acknowledged_write(fresh_cluster):
    c = fresh_cluster()
    api = api_for(c)
    acknowledged = []
    lock = threading.Lock()
    stop = threading.Event()

    def writer(w):
        i = 0
        while not stop.is_set():
            name = f"w{w}-{i}"
            try:
                api.create_namespaced_config_map("default", client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name)))
            except Exception:
                return  # the server died under us: this write was not acknowledged
            with lock:
                acknowledged.append(name)
            i += 1

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    while len(acknowledged) < 200:
        time.sleep(0.01)
    c.stop(sig=signal.SIGKILL)
    stop.set()
    for t in threads:
        t.join(10)
    c.start()
    stored = {i.metadata.name for i in api_for(c).list_namespaced_config_map("default").items}
    missing = [n for n in acknowledged if n not in stored]
    assert not missing, f"{len(missing)} acknowledged writes lost, e.g. {missing[:5]}"


def test_sigterm_with_open_watches_shuts_down_cleanly(fresh_cluster):
    import os
    import subprocess
    c = fresh_cluster()
    env = dict(os.environ, KUBECONFIG=c.kubeconfig)
    watchers = [subprocess.Popen(["kubectl", "get", "cm", "-A", "-w"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
                for _ in range(3)]
    time.sleep(1)
    assert all(w.poll() is None for w in watchers), "the watches are open"
    c.proc.send_signal(signal.SIGTERM)
    assert c.proc.wait(timeout=10) == 0, "localkube exits by itself, watches or not"
    for w in watchers:
        w.kill()
    # Everything is still there afterwards.
    c.start()
    assert "kube-system" in c.kubectl("get", "ns").stdout
