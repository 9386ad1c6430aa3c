"""What upstream's secure serving bounds, Cubby bounds: TLS versions and ciphers, requests in flight, request
deadlines, how long a connection may take to send its headers and how big they may be, HTTP/2 streams."""
import json
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from conftest import BIN


def handshake(port, *flags):
    """openssl s_client's view of one handshake: the protocol and cipher agreed, or the alert."""
    r = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", *flags], input="", capture_output=True,
                       text=True, timeout=20)
    return r.stdout + r.stderr


def test_tls_1_2_is_the_minimum_with_upstreams_ciphers(cluster):
    # SECLEVEL=0 lets the client offer TLS 1.1 at all, so the refusal is the server's.
    refused = handshake(cluster.port, "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0")
    assert "alert protocol version" in refused and "Cipher is (NONE)" in refused
    assert "New, TLSv1.2, Cipher is ECDHE-ECDSA-AES128-GCM-SHA256" in handshake(
        cluster.port, "-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256")
    assert "New, TLSv1.3, Cipher is TLS_AES_" in handshake(cluster.port, "-tls1_3")
    # A suite Go's defaults leave out (CBC with SHA-256) is not agreed to.
    assert "Cipher is (NONE)" in handshake(cluster.port, "-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA256")


def service_account_token(cluster, ns, name):
    """A token of a service account bound to cluster-admin: all rights, but not system:masters (which upstream
    exempts from the in-flight cap)."""
    cluster.kubectl("create", "serviceaccount", name, "-n", ns)
    cluster.kubectl("create", "clusterrolebinding", f"{ns}-{name}", "--clusterrole=cluster-admin", f"--serviceaccount={ns}:{name}")
    return cluster.kubectl("create", "token", name, "-n", ns).stdout.strip()


class SlowRequest:
    """A POST whose body arrives a byte at a time: the server holds the request (and its slot) until it is all in."""

    def __init__(self, cluster, path, token, length=64):
        ctx = ssl.create_default_context(cafile=str(cluster.data_dir / "pki" / "ca.crt"))
        ctx.check_hostname = False
        ctx.set_alpn_protocols(["http/1.1"])
        self.sock = ctx.wrap_socket(socket.create_connection(("127.0.0.1", cluster.port), timeout=30))
        self.sock.sendall((f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
                           f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n{{").encode())

    def response(self):
        """The status code and the Status object the server answered, read until it closes or the body is whole."""
        data = b""
        while b"\r\n\r\n" not in data:
            data += self.sock.recv(65536)
        head, body = data.split(b"\r\n\r\n", 1)
        headers = {k.lower(): v for k, v in (line.split(": ", 1) for line in head.decode().split("\r\n")[1:])}
        length = int(headers.get("content-length", 0))
        while len(body) < length:
            body += self.sock.recv(65536)
        return int(head.split()[1]), headers, json.loads(body)

    def close(self):
        self.sock.close()


def request(cluster, path, token, method="GET", body=None):
    ctx = ssl.create_default_context(cafile=str(cluster.data_dir / "pki" / "ca.crt"))
    ctx.check_hostname = False
    req = urllib.request.Request(f"https://127.0.0.1:{cluster.port}{path}", method=method,
                                 data=json.dumps(body).encode() if body else None,
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


@pytest.fixture(scope="module")
def capped(tmp_path_factory):
    """A cluster that serves one read and one write at a time."""
    from conftest import Cluster
    c = Cluster(tmp_path_factory.mktemp("capped") / "data",
                extra=["--max-requests-inflight", "1", "--max-mutating-requests-inflight", "1"]).start()
    yield c
    c.stop()


def configmap(name):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}


def test_the_binary_is_position_independent():
    """The server's own code is randomised in memory: an ELF of type ET_DYN (PIE), not ET_EXEC."""
    with open(BIN, "rb") as f:
        header = f.read(18)
    assert header[:4] == b"\x7fELF"
    assert int.from_bytes(header[16:18], "little") == 3, "cubby is linked position-dependent (ET_EXEC)"


def test_past_the_in_flight_cap_a_request_gets_429_with_retry_after(capped):
    token = service_account_token(capped, "default", "busy")
    admin = (capped.data_dir / "token").read_text().strip()
    path = "/api/v1/namespaces/default/configmaps"
    slow = SlowRequest(capped, path, token)
    try:
        time.sleep(0.5)
        code, headers, body = request(capped, path, token, "POST", configmap("refused"))
        status = json.loads(body)
        assert code == 429 and headers["Retry-After"] == "1"
        assert (status["reason"], status["message"], status["details"]["retryAfterSeconds"]) == \
            ("TooManyRequests", "Too many requests, please try again later.", 1)
        # Reads have slots of their own; probes and system:masters are never turned away.
        assert request(capped, path, token)[0] == 200
        assert request(capped, "/readyz", token)[0] == 200
        assert request(capped, path, admin, "POST", configmap("by-admin"))[0] == 201
    finally:
        slow.close()
    # The slot is free again once the slow request is gone.
    deadline = time.time() + 10
    while (code := request(capped, path, token, "POST", configmap("accepted"))[0]) == 429 and time.time() < deadline:
        time.sleep(0.1)
    assert code == 201
    assert capped.kubectl("get", "configmap", "refused", check=False).returncode != 0


def test_a_request_past_its_timeout_gets_504(cluster, ns):
    token = (cluster.data_dir / "token").read_text().strip()
    slow = SlowRequest(cluster, f"/api/v1/namespaces/{ns}/configmaps?timeout=1s", token)
    try:
        started = time.time()
        code, _, status = slow.response()
        assert code == 504 and status["reason"] == "Timeout" and time.time() - started < 10
        assert status["message"] == "Timeout: request did not complete within requested timeout - context deadline exceeded"
    finally:
        slow.close()
    code, _, body = request(cluster, f"/api/v1/namespaces/{ns}/configmaps?timeout=soon", token)
    assert code == 400 and json.loads(body)["message"] == "invalid timeout specified in the request URL"
    assert cluster.kubectl("get", "configmaps", "-n", ns, "--request-timeout=30s").returncode == 0


def established(port):
    """The server's side of the connections to `port` that are still open (ESTABLISHED in /proc/net/tcp)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if int(fields[1].split(":")[1], 16) == port and fields[3] == "01":
                    count += 1
    return count


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS:")) / 1024


def test_watchers_that_never_read_are_closed_and_memory_stays_bounded(fresh_cluster):
    import http.client
    import threading
    c = fresh_cluster()
    c.kubectl("create", "namespace", "stalled")
    token = (c.data_dir / "token").read_text().strip()
    ctx = ssl.create_default_context(cafile=str(c.data_dir / "pki" / "ca.crt"))
    ctx.check_hostname = False
    ctx.set_alpn_protocols(["http/1.1"])
    watch = (f"GET /api/v1/namespaces/stalled/configmaps?watch=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
             f"Authorization: Bearer {token}\r\n\r\n").encode()

    # A reader that keeps up, counting what it is told.
    seen = set()
    reader = ctx.wrap_socket(socket.create_connection(("127.0.0.1", c.port)))
    reader.sendall(watch)

    def read():
        buf = b""
        while len(seen) < 20_000:
            chunk = reader.recv(1 << 16)
            if not chunk:
                return
            buf += chunk
            *lines, buf = buf.split(b"\n")
            for line in lines:
                if b'"type":"ADDED"' in line:
                    seen.add(json.loads(line[line.index(b"{"):] if not line.startswith(b"{") else line)["object"]["metadata"]["name"])
    reading = threading.Thread(target=read, daemon=True)
    reading.start()

    stalled = []
    try:
        for _ in range(1000):
            raw = socket.socket()
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            raw.connect(("127.0.0.1", c.port))
            s = ctx.wrap_socket(raw)
            s.sendall(watch)
            stalled.append(s)
        time.sleep(1)
        assert established(c.port) >= 1000

        payload = "x" * 1024
        def write(first):
            conn = http.client.HTTPSConnection("127.0.0.1", c.port, context=ctx)
            for i in range(first, 20_000, 8):
                body = json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"cm-{i}"}, "data": {"d": payload}})
                conn.request("POST", "/api/v1/namespaces/stalled/configmaps", body,
                             {"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
                r = conn.getresponse()
                r.read()
                assert r.status == 201, r.status
            conn.close()
        writers = [threading.Thread(target=write, args=(i,)) for i in range(8)]
        for w in writers:
            w.start()
        peak = 0
        while any(w.is_alive() for w in writers):
            peak = max(peak, rss_mb(c.proc.pid))
            time.sleep(0.5)
        reading.join(timeout=60)
        peak = max(peak, rss_mb(c.proc.pid))
        assert len(seen) == 20_000, f"the reader saw {len(seen)} of 20,000 creates"
        assert peak < 300, f"localkube grew to {peak:.0f} MB"
        # The stalled watches were closed by the server; the reader's is still open.
        assert established(c.port) < 50
    finally:
        for s in stalled:
            s.close()
        reader.close()


def tls_socket(cluster, alpn="http/1.1"):
    ctx = ssl.create_default_context(cafile=str(cluster.data_dir / "pki" / "ca.crt"))
    ctx.check_hostname = False
    ctx.set_alpn_protocols([alpn])
    return ctx.wrap_socket(socket.create_connection(("127.0.0.1", cluster.port), timeout=60))


def test_a_client_sending_its_headers_a_byte_a_second_is_closed_while_others_are_served(cluster):
    """Upstream's ReadHeaderTimeout (32 s): a connection that has not delivered its request's headers by then is
    closed, however steadily it dribbles them; meanwhile everyone else is answered."""
    import threading
    slow = tls_socket(cluster)
    started = time.monotonic()
    outcome = {}

    def dribble():
        header = b"GET /version HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Dribble: " + b"a" * 60
        slow.settimeout(1)
        for byte in header:
            try:
                slow.sendall(bytes([byte]))
                if slow.recv(1024) == b"":
                    outcome["closed"] = time.monotonic() - started
                    return
            except socket.timeout:
                continue
            except (OSError, ssl.SSLError):
                outcome["closed"] = time.monotonic() - started
                return
    t = threading.Thread(target=dribble, daemon=True)
    t.start()
    try:
        while t.is_alive():
            assert cluster.kubectl("get", "namespaces", "-o", "name", timeout=10).returncode == 0
            time.sleep(2)
        assert "closed" in outcome, "the server never closed the dribbling connection"
        assert 30 <= outcome["closed"] <= 40, f"closed after {outcome['closed']:.1f} s"
    finally:
        slow.close()


def raw_get(cluster, header_bytes):
    """A GET /version carrying one header of `header_bytes` bytes: the status line and body the server sends."""
    s = tls_socket(cluster)
    try:
        s.sendall(b"GET /version HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * header_bytes + b"\r\n\r\n")
        data = b""
        while b"\r\n\r\n" not in data or len(data.split(b"\r\n\r\n", 1)[1]) < 30:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        return head.split(b"\r\n")[0].decode(), body
    finally:
        s.close()


def test_headers_up_to_1_mib_are_read_and_larger_ones_get_431(cluster):
    """Upstream's MaxHeaderBytes: 1 MiB; Go's server answers more with 431 and closes."""
    status, body = raw_get(cluster, 900 * 1024)
    assert status == "HTTP/1.1 200 OK" and b"gitVersion" in body
    status, body = raw_get(cluster, 1024 * 1024 + 1)
    assert status == "HTTP/1.1 431 Request Header Fields Too Large"
    assert body.startswith(b"431 Request Header Fields Too Large")


def test_http2_streams_per_connection_are_bounded(cluster):
    """The server advertises 100 concurrent streams (upstream's default) and bounded frames and header lists; a
    client that opens more anyway loses the connection, and other clients are served as before."""
    import h2.config
    import h2.connection
    import h2.events
    s = tls_socket(cluster, alpn="h2")
    assert s.selected_alpn_protocol() == "h2"
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    conn.initiate_connection()
    s.sendall(conn.data_to_send())
    s.settimeout(2)

    def pump():
        events = []
        try:
            while True:
                data = s.recv(65536)
                if not data:
                    events.append("closed")
                    break
                events += conn.receive_data(data)
                s.sendall(conn.data_to_send())
        except (socket.timeout, OSError):
            pass
        return events
    try:
        settings = {}
        for e in pump():
            if isinstance(e, h2.events.RemoteSettingsChanged):
                settings.update({getattr(k, "name", k): v.new_value for k, v in e.changed_settings.items()})
        assert settings.get("MAX_CONCURRENT_STREAMS") == 100
        assert settings.get("MAX_HEADER_LIST_SIZE", 0) > 0
        assert settings.get("MAX_FRAME_SIZE", 16384) <= 256 * 1024
        # A client that ignores the advertised limit: 120 requests whose bodies never come.
        conn.remote_settings.max_concurrent_streams = 1000
        conn.remote_settings.acknowledge()
        for _ in range(120):
            conn.send_headers(conn.get_next_available_stream_id(), [
                (":method", "POST"), (":path", "/api/v1/namespaces/default/configmaps"), (":scheme", "https"),
                (":authority", "127.0.0.1"), ("content-type", "application/json")])
        s.sendall(conn.data_to_send())
        events = pump()
        refused = [e for e in events if isinstance(e, h2.events.StreamReset)]
        ended = [e for e in events if isinstance(e, h2.events.ConnectionTerminated)]
        assert ended or len(refused) >= 20, f"the server took more than 100 streams: {events[:5]}"
    finally:
        s.close()
    assert cluster.kubectl("get", "namespaces", "-o", "name").returncode == 0


def patterned_crd(pattern):
    return json.dumps({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "codes.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced", "names": {"plural": "codes", "singular": "code", "kind": "Code"},
                 "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                     "type": "object", "properties": {"spec": {"type": "object", "properties": {
                         "value": {"type": "string", "pattern": pattern}}}}}}}]}})


def test_crd_patterns_are_checked_when_written_and_cannot_stall_a_request(cluster, ns):
    k = cluster.kubectl
    refused = k("create", "-f", "-", input=patterned_crd("+"), check=False)
    assert refused.returncode == 1
    assert ('spec.validation.openAPIV3Schema.properties[spec].properties[value].pattern: Invalid value: "+": '
            "must be a valid regular expression, but isn't: error parsing regexp: missing argument to repetition operator: `+`"
            in refused.stderr)
    # Go's syntax, not another engine's: lookahead is refused as Go refuses it.
    assert "invalid or unsupported Perl syntax: `(?=`" in k("create", "-f", "-", input=patterned_crd("a(?=b)"), check=False).stderr

    # A pattern that backtracking engines take exponential time over.
    k("create", "-f", "-", input=patterned_crd("^(a+)+$"))
    k("wait", "--for", "condition=established", "crd/codes.example.com", "--timeout=20s")
    try:
        def code(name, value):
            return json.dumps({"apiVersion": "example.com/v1", "kind": "Code", "metadata": {"name": name}, "spec": {"value": value}})
        # A backtracking engine would take longer than kubectl's own timeout here.
        bad = k("create", "-n", ns, "-f", "-", input=code("bad", "a" * 30_000 + "!"), check=False)
        assert bad.returncode == 1 and "spec.value in body should match '^(a+)+$'" in bad.stderr
        k("create", "-n", ns, "-f", "-", input=code("good", "a" * 30_000))
    finally:
        k("delete", "crd", "codes.example.com", "--wait=false")


def test_a_pod_asking_for_100_exabytes_is_unschedulable_not_fatal(cluster, ns):
    """Found by the quantity fuzzer: a quantity beyond Int64 trapped the scheduler and with it the whole
    process (and again on every restart). Now it is what a real cluster makes of it: Pending, Insufficient."""
    k = lambda *a, **kw: cluster.kubectl("-n", ns, *a, **kw)
    k("create", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "huge"}, "spec": {
        "containers": [{"name": "c", "image": "busybox", "resources": {"requests": {"memory": "100E", "cpu": "100E"}}}]}}))
    for _ in range(200):
        pod = json.loads(k("get", "pod", "huge", "-o", "json").stdout)
        conditions = [c for c in pod["status"].get("conditions", []) if c["type"] == "PodScheduled"]
        if conditions and conditions[0].get("reason") == "Unschedulable":
            break
        time.sleep(0.05)
    assert "Insufficient cpu" in conditions[0]["message"] and "Insufficient memory" in conditions[0]["message"]
    assert pod["status"]["phase"] == "Pending"
    assert cluster.proc.poll() is None
