"""Streams into real pods through the API server, as people open them: `kubectl exec` (a command,
stdin piped in, exit codes, a terminal driven through a pseudo-terminal with a resize), `kubectl
attach`, `kubectl port-forward` (pod/, svc/ and deploy/ forms, concurrent connections, a port
nothing listens on), `kubectl cp` both ways, the Python client's stream() and portforward(), and
RBAC's Forbidden for a user bound to `view`."""
import contextlib
import fcntl
import hashlib
import json
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import free_port, namespace_for
from realpods import BUSYBOX, eventually
from realpods import node  # noqa: F401 (fixture)

pytestmark = pytest.mark.skipif(sys.platform != "linux" or os.geteuid() != 0, reason="real pods need Linux and root")


@pytest.fixture
def ns(node, request):  # noqa: F811
    yield from namespace_for(node, request)


def pod(node, ns, name, script="exec sleep 3600", labels=None, **container):  # noqa: F811
    manifest = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns, "labels": labels or {}},
                "spec": {"terminationGracePeriodSeconds": 1,
                         "containers": [{"name": "main", "image": BUSYBOX, "command": ["sh", "-c", script], **container}]}}
    node.kubectl("apply", "-f", "-", input=json.dumps(manifest))
    node.wait("--for=condition=Ready", f"pod/{name}", "-n", ns)


def kubectl_bytes(node, *args, input=None, timeout=60):  # noqa: F811
    return subprocess.run(["kubectl", "--context", node.name, *args], input=input, capture_output=True,
                          env=node.env, timeout=timeout)


def test_exec_command_stdin_and_exit_codes(node, ns):  # noqa: F811
    pod(node, ns, "shell")
    assert node.kubectl("-n", ns, "exec", "shell", "--", "cat", "/etc/hostname").stdout == "shell\n"
    # stdin piped in arrives byte for byte, and its end ends the command.
    data = os.urandom(300_000)
    r = kubectl_bytes(node, "-n", ns, "exec", "-i", "shell", "--", "sh", "-c", "cat > /tmp/x", input=data)
    assert r.returncode == 0, r.stderr
    back = kubectl_bytes(node, "-n", ns, "exec", "shell", "--", "cat", "/tmp/x")
    assert back.returncode == 0 and hashlib.sha256(back.stdout).hexdigest() == hashlib.sha256(data).hexdigest()
    # stdout and stderr apart; the command's exit code is kubectl's.
    r = node.kubectl("-n", ns, "exec", "shell", "--", "sh", "-c", "echo out; echo err >&2; exit 3", check=False)
    assert (r.returncode, r.stdout, r.stderr) == (3, "out\n", "err\ncommand terminated with exit code 3\n")
    r = node.kubectl("-n", ns, "exec", "shell", "--", "no-such-command", check=False)
    assert r.returncode != 0 and "no-such-command" in r.stderr
    # Upstream's refusals: an unknown container, a pod that is not there.
    r = node.kubectl("-n", ns, "exec", "shell", "-c", "nope", "--", "true", check=False)
    assert (r.returncode, r.stderr) == (1, "error: container nope is not valid for pod shell out of: main\n")
    r = node.kubectl("-n", ns, "exec", "ghost", "--", "true", check=False)
    assert r.returncode == 1 and r.stderr.strip() == 'Error from server (NotFound): pods "ghost" not found'


def read_until(fd, pattern, timeout=30):
    deadline, seen = time.monotonic() + timeout, b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
            if re.search(pattern, seen):
                return seen
    raise AssertionError(f"{pattern!r} not seen; got {seen!r}")


@contextlib.contextmanager
def in_terminal(node, *args, rows=24, cols=80):  # noqa: F811
    """kubectl run on a pseudo-terminal of the given size: yields its leader side and the process."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    proc = subprocess.Popen(["kubectl", "--context", node.name, *args], stdin=follower, stdout=follower, stderr=follower,
                            env=node.env, start_new_session=True)
    os.close(follower)
    try:
        yield leader, proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(leader)


def test_exec_with_a_terminal_follows_its_size(node, ns):  # noqa: F811
    pod(node, ns, "term")
    with in_terminal(node, "-n", ns, "exec", "-it", "term", "--", "sh", rows=31, cols=97) as (leader, proc):
        os.write(leader, b"echo size=$(stty size) tty=$(tty)\n")
        read_until(leader, rb"size=31 97 tty=/dev/pts/\d+")
        # A new size reaches the container's terminal (kubectl watches SIGWINCH).
        fcntl.ioctl(leader, termios.TIOCSWINSZ, struct.pack("HHHH", 44, 120, 0, 0))
        os.kill(proc.pid, signal.SIGWINCH)
        eventually(lambda: os.write(leader, b"echo now=$(stty size)\n") and b"now=44 120" in read_until(leader, rb"now=\d+ \d+", 3),
                   timeout=20, what="the resized terminal")
        os.write(leader, b"exit 5\n")
        assert proc.wait(timeout=30) == 5


def test_debug_runs_an_ephemeral_container_beside_its_target(node, ns):  # noqa: F811
    pod(node, ns, "target", "exec sleep 3600")
    with in_terminal(node, "-n", ns, "debug", "-it", "target", f"--image={BUSYBOX}", "--target=main", "--container=debugger") as (leader, proc):
        read_until(leader, rb"If you don't see a command prompt")
        # The debugger shares the target's process namespace: it sees the target's sleep.
        eventually(lambda: os.write(leader, b"ps -o pid,args | grep -c '[s]leep 3600'\n") and re.search(rb"\r\n1\r\n", read_until(leader, rb"\r\n\d+\r\n", 3)),
                   timeout=30, what="the target's process in the debugger")
        os.write(leader, b"exit 0\n")
        assert proc.wait(timeout=30) == 0
    status = node.get("pod", "target", "-n", ns)["status"]["ephemeralContainerStatuses"][0]
    assert status["name"] == "debugger" and status["image"].endswith(BUSYBOX)
    eventually(lambda: node.get("pod", "target", "-n", ns)["status"]["ephemeralContainerStatuses"][0]["state"]["terminated"]["exitCode"] == 0,
               timeout=30, what="the debugger to end")
    # Once added, an ephemeral container stays as it is (upstream's words).
    r = node.kubectl("-n", ns, "patch", "pod", "target", "--subresource=ephemeralcontainers", "--type=json",
                     "-p", '[{"op":"remove","path":"/spec/ephemeralContainers/0"}]', check=False)
    assert r.returncode == 1 and 'existing ephemeral containers "debugger" may not be removed' in r.stderr, r.stderr
    r = node.kubectl("-n", ns, "patch", "pod", "target", "--subresource=ephemeralcontainers", "--type=strategic",
                     "-p", '{"spec":{"ephemeralContainers":[{"name":"web","image":"busybox:1.35","ports":[{"containerPort":80}]}]}}', check=False)
    assert r.returncode == 1 and "spec.ephemeralContainers[1].ports: Forbidden: cannot be set for an Ephemeral Container" in r.stderr, r.stderr


def test_attach_reads_stdin_and_shows_output(node, ns):  # noqa: F811
    pod(node, ns, "reader", "echo ready; read line; echo got:$line; exec sleep 3600", stdin=True)
    proc = subprocess.Popen(["kubectl", "--context", node.name, "-n", ns, "attach", "-i", "reader"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=node.env)
    try:
        # Stdin stays open until the answer is read: the runtime ends an attach when its stdin ends.
        proc.stdin.write(b"hello attach\n")
        proc.stdin.flush()
        assert read_until(proc.stdout.fileno(), rb"got:hello attach\n") .endswith(b"got:hello attach\n")
    finally:
        proc.kill()
        proc.wait()


def start_forward(node, ns, target, *ports):  # noqa: F811
    proc = subprocess.Popen(["kubectl", "--context", node.name, "-n", ns, "port-forward", target, *ports],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=node.env)
    line = proc.stdout.readline()
    assert line.startswith("Forwarding from 127.0.0.1:"), (line, proc.stderr.read() if proc.poll() is not None else "")
    return proc


def stop(proc):
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


HTTPD = "mkdir -p /www && echo served-by-$HOSTNAME > /www/index.html && exec httpd -f -p 80 -h /www"


def test_port_forward_pod_service_and_deployment(node, ns):  # noqa: F811
    pod(node, ns, "web", HTTPD, labels={"app": "web"}, ports=[{"containerPort": 80, "name": "http"}])
    node.kubectl("-n", ns, "create", "service", "clusterip", "web", "--tcp=8080:80")
    node.kubectl("-n", ns, "create", "deployment", "site", f"--image={BUSYBOX}", "--", "sh", "-c", HTTPD)
    node.wait("--for=condition=Available", "deployment/site", "-n", ns)
    local = free_port()
    proc = start_forward(node, ns, "pod/web", f"{local}:80")
    try:
        def get(_):
            with urllib.request.urlopen(f"http://127.0.0.1:{local}/", timeout=20) as r:
                return r.status, r.read().decode()
        with ThreadPoolExecutor(20) as pool:
            answers = list(pool.map(get, range(20)))
        assert answers == [(200, "served-by-web\n")] * 20
    finally:
        stop(proc)
    # svc/ forwards to a pod behind the service, its port mapped to the pod's; deploy/ to one of its pods.
    local = free_port()
    proc = start_forward(node, ns, "svc/web", f"{local}:8080")
    try:
        assert urllib.request.urlopen(f"http://127.0.0.1:{local}/", timeout=20).read() == b"served-by-web\n"
    finally:
        stop(proc)
    local, other = free_port(), free_port()
    proc = start_forward(node, ns, "deploy/site", f"{local}:80", f"{other}:80")
    try:
        for port in (local, other):
            assert urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=20).read().startswith(b"served-by-site-")
    finally:
        stop(proc)
    # A port nothing listens on: the connection fails and kubectl says why.
    local = free_port()
    proc = start_forward(node, ns, "pod/web", f"{local}:81")
    try:
        with pytest.raises(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{local}/", timeout=20).read()
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert "error forwarding port 81" in err and "connection refused" in err


def test_cp_a_directory_in_and_out(node, ns, tmp_path):  # noqa: F811
    pod(node, ns, "box")
    src = tmp_path / "src"
    (src / "nested").mkdir(parents=True)
    files = {"a.txt": b"alpha\n", "nested/b.bin": os.urandom(70_000), "nested/empty": b""}
    for name, content in files.items():
        (src / name).write_bytes(content)
    node.kubectl("cp", str(src), f"{ns}/box:/tmp/copied")
    assert node.kubectl("-n", ns, "exec", "box", "--", "cat", "/tmp/copied/a.txt").stdout == "alpha\n"
    out = tmp_path / "out"
    node.kubectl("cp", f"{ns}/box:/tmp/copied", str(out))
    for name, content in files.items():
        assert (out / name).read_bytes() == content, name


def test_view_user_is_refused_exec_and_port_forward(node, ns):  # noqa: F811
    pod(node, ns, "guarded", HTTPD)
    node.kubectl("-n", ns, "create", "serviceaccount", "viewer")
    node.kubectl("-n", ns, "create", "rolebinding", "viewer", "--clusterrole=view", f"--serviceaccount={ns}:viewer")
    token = node.kubectl("-n", ns, "create", "token", "viewer").stdout.strip()
    user = f"system:serviceaccount:{ns}:viewer"
    r = node.kubectl("--token", token, "-n", ns, "exec", "guarded", "--", "true", check=False)
    assert r.returncode == 1
    # kubectl tries WebSocket, falls back to SPDY, and reports the second refusal.
    assert r.stderr.strip() == (f'error: unable to upgrade connection: pods "guarded" is forbidden: User "{user}" '
                                f'cannot create resource "pods/exec" in API group "" in the namespace "{ns}"')
    local = free_port()
    r = node.kubectl("--token", token, "-n", ns, "port-forward", "pod/guarded", f"{local}:80", check=False, timeout=30)
    assert r.returncode == 1
    assert f'User "{user}" cannot create resource "pods/portforward" in API group "" in the namespace "{ns}"' in r.stderr
    # The same user may still read the pod.
    assert node.kubectl("--token", token, "-n", ns, "get", "pod", "guarded", "-o", "name").stdout.strip() == "pod/guarded"


# The Python client's stream() and portforward(), as its own e2e suite drives them
# (test_exit_code, test_pod_exec_close_channel, test_portforward_raw, test_portforward_http).

@pytest.fixture
def core(node):  # noqa: F811
    from kubernetes import client, config
    api = config.new_client_from_config(config_file=str(node.kubeconfig), context=node.name)
    yield client.CoreV1Api(api)
    api.close()


def test_python_client_exec_exit_codes_and_close_channel(node, ns, core):  # noqa: F811
    from kubernetes.stream import stream
    pod(node, ns, "py-exec")
    for command, code in ((["false"], 1), (["/bin/sh", "-c", "sleep 1; exit 3"], 3), (["true"], 0), (["/bin/sh", "-c", "ls /"], 0)):
        resp = stream(core.connect_get_namespaced_pod_exec, "py-exec", ns, command=command,
                      stderr=True, stdin=False, stdout=True, tty=False, _preload_content=False)
        assert resp.returncode is None
        resp.run_forever(timeout=10)
        assert resp.returncode == code, command
    assert stream(core.connect_get_namespaced_pod_exec, "py-exec", ns, command=["cat", "/etc/hostname"],
                  stderr=True, stdin=False, stdout=True, tty=False) == "py-exec\n"
    # v5: closing stdin ends `cat`, and the connection closes with its exit code.
    resp = stream(core.connect_post_namespaced_pod_exec, "py-exec", ns, command=["/bin/sh", "-c", "cat"],
                  stderr=True, stdin=True, stdout=True, tty=False, _preload_content=False)
    assert resp.subprotocol == "v5.channel.k8s.io"
    resp.write_stdin("test-close\n")
    assert resp.readline_stdout(timeout=5) == "test-close"
    resp.close_channel(0)
    resp.run_forever(timeout=15)
    assert not resp.is_open()
    assert resp.returncode == 0




def test_python_client_port_forward_raw_and_http(node, ns, core):  # noqa: F811
    from kubernetes.stream import portforward
    pod(node, ns, "py-forward", "mkdir -p /www && echo '<h1>Welcome</h1>' > /www/index.html && "
        "(nc -ll -p 1234 -e cat &) && (nc -ll -p 1235 -e cat &) && exec httpd -f -p 80 -h /www",
        readinessProbe={"tcpSocket": {"port": 1235}, "periodSeconds": 1})
    for round_ in range(10):
        pf = portforward(core.connect_get_namespaced_pod_portforward, "py-forward", ns, ports="1234,1235,1236")
        assert pf.connected
        s1234, s1235 = pf.socket(1234), pf.socket(1235)
        s1234.setblocking(True)
        s1235.setblocking(True)
        sent = {s1234: f"Test {round_} port 1234 forwarding".encode(), s1235: f"Test {round_} port 1235 forwarding".encode()}
        for sock, data in sent.items():
            sock.sendall(data)
        for sock, data in sent.items():
            reply = b""
            deadline = time.monotonic() + 30
            while reply != data:
                assert time.monotonic() < deadline, reply
                if select.select([sock], [], [], 1)[0]:
                    chunk = sock.recv(1024)
                    assert chunk, f"unexpected close in round {round_}: {pf.error(1234)!r} {pf.error(1235)!r}"
                    reply += chunk
        # Nothing listens on 1236: its socket closes and the error names the port.
        s1236 = pf.socket(1236)
        s1236.settimeout(30)  # a lost error fails the test rather than hanging it
        assert s1236.recv(1024) == b""
        assert pf.error(1236) is not None
        s1236.close()
        for sock in (s1234, s1235):
            sock.close()
        eventually(lambda: not pf.connected, timeout=10, what="the forward to close")
        assert pf.error(1234) is None and pf.error(1235) is None
        # busybox nc serves one connection at a time: let it listen again (upstream's test sleeps too).
        time.sleep(1)
    # HTTP through a forward: urllib over the forwarded socket.
    pf = portforward(core.connect_get_namespaced_pod_portforward, "py-forward", ns, ports="80")
    sock = pf.socket(80)
    sock.setblocking(True)
    sock.sendall(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
    answer = b""
    while chunk := sock.recv(4096):
        answer += chunk
    assert answer.startswith(b"HTTP/1.") and b" 200 " in answer.split(b"\r\n")[0] and b"<h1>Welcome</h1>" in answer
    sock.close()
