"""cubby start, stop, delete and status as a newcomer uses them, with a kubeconfig that already has other entries."""
import os
import subprocess

import yaml

from conftest import BIN, free_port

OTHER = {
    "apiVersion": "v1", "kind": "Config", "current-context": "other", "preferences": {},
    "clusters": [{"name": "other", "cluster": {"server": "https://10.0.0.1:6443", "insecure-skip-tls-verify": True}}],
    "users": [{"name": "other", "user": {"token": "abc"}}],
    "contexts": [{"name": "other", "context": {"cluster": "other", "user": "other", "namespace": "team"}}],
}


class Env:
    def __init__(self, tmp_path):
        self.home = tmp_path / "cubby-home"
        self.kubeconfig = tmp_path / "kube" / "config"
        self.env = dict(os.environ, CUBBY_HOME=str(self.home), KUBECONFIG=str(self.kubeconfig))

    def cubby(self, *args, check=True):
        r = subprocess.run([BIN, *args], capture_output=True, text=True, env=self.env, timeout=120)
        if check and r.returncode != 0:
            raise AssertionError(f"cubby {' '.join(args)} failed ({r.returncode}):\n{r.stderr}\n{r.stdout}")
        return r

    def kubectl(self, *args, check=True):
        r = subprocess.run(["kubectl", *args], capture_output=True, text=True, env=self.env, timeout=60)
        if check and r.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed:\n{r.stderr}")
        return r


def test_start_stop_start_delete_keeps_objects_and_leaves_no_trace(tmp_path):
    e = Env(tmp_path)
    e.kubeconfig.parent.mkdir()
    e.kubeconfig.write_text(yaml.safe_dump(OTHER))
    port = free_port()
    out = e.cubby("start", "--port", str(port)).stdout.splitlines()
    assert out[-1] == '🏄  Done! kubectl is now configured to use "cubby" cluster and "default" namespace by default'
    assert any(l.startswith("⌛  Waiting for the API server") for l in out)
    assert e.kubectl("config", "current-context").stdout.strip() == "cubby"
    e.kubectl("create", "configmap", "kept", "--from-literal=a=b")
    again = e.cubby("start")
    assert again.stdout.strip() == f'✅  Cluster "cubby" is already running on https://127.0.0.1:{port}'
    assert e.cubby("status").stdout.split("\n")[:5] == ["cubby", "type: Control Plane", "host: Running", "apiserver: Running", "kubeconfig: Configured"]

    assert e.cubby("stop").stdout.strip().splitlines()[-1] == "🛑  1 node stopped."
    stopped = e.cubby("status", "-o", "json", check=False)
    assert stopped.returncode == 7 and '"Host":"Stopped"' in stopped.stdout
    e.cubby("start")
    assert e.kubectl("get", "configmap", "kept", "-o", "jsonpath={.data.a}").stdout == "b"

    profile = e.home / "profiles" / "cubby"
    assert {p.name for p in profile.iterdir()} >= {"config.json", "pki", "state.db", "localkube.log", "localkube.pid"}
    assert e.cubby("delete").stdout.strip().splitlines()[-1] == '💀  Removed all traces of the "cubby" cluster.'
    assert not profile.exists()
    left = yaml.safe_load(e.kubeconfig.read_text())
    for section in ("clusters", "users", "contexts"):
        assert left[section] == OTHER[section]
    assert left["current-context"] == ""
    assert oct(e.kubeconfig.stat().st_mode & 0o777) == "0o600"


def test_two_profiles_side_by_side(tmp_path):
    e = Env(tmp_path)
    p1, p2 = free_port(), free_port()
    e.cubby("start", "-p", "one", "--port", str(p1))
    e.cubby("start", "-p", "two", "--port", str(p2))
    try:
        e.kubectl("--context", "one", "create", "namespace", "only-in-one")
        assert e.kubectl("--context", "one", "get", "ns", "only-in-one", check=False).returncode == 0
        assert "NotFound" in e.kubectl("--context", "two", "get", "ns", "only-in-one", check=False).stderr
        servers = {c["name"]: c["cluster"]["server"] for c in yaml.safe_load(e.kubeconfig.read_text())["clusters"]}
        assert servers == {"one": f"https://127.0.0.1:{p1}", "two": f"https://127.0.0.1:{p2}"}
        e.cubby("stop", "-p", "two")
        rows = [l.split() for l in e.cubby("profile", "list").stdout.splitlines()]
        assert rows == [["PROFILE", "SERVER", "STATUS"], ["one", f"https://127.0.0.1:{p1}", "Running"],
                        ["two", f"https://127.0.0.1:{p2}", "Stopped"]]
        assert f"localkube serving on https://127.0.0.1:{p1}" in e.cubby("logs", "-p", "one").stdout
        assert e.cubby("version").stdout.startswith("cubby version: v")
    finally:
        e.cubby("delete", "--all")
    assert yaml.safe_load(e.kubeconfig.read_text())["clusters"] == []


def test_bad_input_is_one_line_and_changes_nothing(tmp_path):
    e = Env(tmp_path)
    for args in (["status", "-p", "nope"], ["stop", "-p", "nope"], ["delete", "-p", "nope"]):
        r = e.cubby(*args, check=False)
        assert r.returncode != 0
        assert r.stderr.strip() == '❌  Profile "nope" not found. Run "cubby profile list" to view all profiles.'
    assert e.cubby("start", "--no-such-flag", check=False).returncode != 0

    import socket
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        r = e.cubby("start", "--port", str(port), check=False)
    assert r.returncode == 1 and r.stderr.strip() == f"❌  port {port} is already in use; choose another with --port"
    assert not (e.home / "profiles" / "cubby").exists()

    e.kubeconfig.parent.mkdir()
    e.kubeconfig.write_text("clusters: [unclosed\n")
    r = e.cubby("start", "--port", str(free_port()), check=False)
    assert r.returncode == 1 and r.stderr.startswith(f"❌  cannot parse kubeconfig {e.kubeconfig} (left as it is)")
    assert len(r.stderr.strip().splitlines()) == 1
    assert e.kubeconfig.read_text() == "clusters: [unclosed\n"
    assert not (e.home / "profiles" / "cubby").exists()
