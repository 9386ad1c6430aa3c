"""What localkube keeps across a clean restart and across kill -9."""
import signal
import sqlite3
import threading
import time

from kubernetes import client, config

from conftest import STORE


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


def test_kill_9_under_8_writers_20_times_keeps_every_acknowledged_write(fresh_cluster):
    """kill -9 in the middle of 8 writers, 20 times over: every create a client saw acknowledged is
    there afterwards, resourceVersions only grow, and (on SQLite) the file's integrity holds."""
    c = fresh_cluster()
    acknowledged = {}  # name -> resourceVersion the server acknowledged
    newest_before_kill = 0
    for round in range(20):
        api = api_for(c)
        lock = threading.Lock()
        stop = threading.Event()
        acked_this_round = []

        def writer(w):
            i = 0
            while not stop.is_set():
                name = f"r{round}-w{w}-{i}"
                try:
                    made = api.create_namespaced_config_map("default", client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name)))
                except Exception:
                    return  # the server died under us: this write was not acknowledged
                with lock:
                    acknowledged[name] = int(made.metadata.resource_version)
                    acked_this_round.append(name)
                i += 1

        threads = [threading.Thread(target=writer, args=(w,)) for w in range(8)]
        for t in threads:
            t.start()
        deadline = time.time() + 30
        while len(acked_this_round) < 80 and time.time() < deadline:
            time.sleep(0.005)
        c.stop(sig=signal.SIGKILL)
        stop.set()
        for t in threads:
            t.join(10)
        assert acked_this_round, f"round {round}: no write was acknowledged"
        newest_before_kill = max(newest_before_kill, max(acknowledged[n] for n in acked_this_round))
        c.start()
        api = api_for(c)
        stored = {i.metadata.name: int(i.metadata.resource_version) for i in api.list_namespaced_config_map("default").items}
        missing = [n for n in acknowledged if n not in stored]
        assert not missing, f"round {round}: {len(missing)} acknowledged writes lost, e.g. {missing[:5]}"
        assert all(stored[n] == rv for n, rv in acknowledged.items()), "an acknowledged object changed"
        # Revisions go on above everything acknowledged before the kill.
        made = api.create_namespaced_config_map("default", client.V1ConfigMap(metadata=client.V1ObjectMeta(name=f"after-{round}")))
        assert int(made.metadata.resource_version) > newest_before_kill
    if STORE == "sqlite":
        c.stop()
        db = sqlite3.connect(str(c.data_dir / "state.db"))
        try:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        finally:
            db.close()


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
