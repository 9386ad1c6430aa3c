"""What the benchmarks that run real pods share: a resolver of their own on loopback (so no lookup leaves
the machine) and a cubby profile on the containerd driver in a temporary CUBBY_HOME, deleted after."""
import contextlib
import http.client
import json
import os
import random
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def release_binary(position, name):
    """The binary a benchmark was given as its `position`-th argument, else the release build's."""
    return sys.argv[position] if len(sys.argv) > position else str(ROOT / ".build/release" / name)


def unverified_tls():
    """TLS to a cluster's API server on loopback, whose CA the benchmark does not load."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


def start_creating(port, token, objects, clients):
    """Threads, started, that POST each (path, object) of `objects` (an iterator shared by them) over a keep-alive
    connection each, as `clients` clients; join them to wait for the last creation."""
    lock = threading.Lock()

    def write():
        conn = http.client.HTTPSConnection("127.0.0.1", port, context=unverified_tls(), timeout=60)
        while True:
            with lock:
                item = next(objects, None)
            if item is None:
                break
            path, body = item
            conn.request("POST", path, json.dumps(body), {"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
            r = conn.getresponse()
            r.read()
            assert r.status == 201, r.status
        conn.close()
    writers = [threading.Thread(target=write) for _ in range(clients)]
    for w in writers:
        w.start()
    return writers


def loopback_resolver(address, answer=None):
    """A DNS server on `address`:53 answering every query with an A record of `answer` (TTL 300, so
    the cluster DNS caches it), or NXDOMAIN when there is none. Close the returned socket to stop it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((address, 53))

    def serve():
        while True:
            try:
                data, peer = sock.recvfrom(4096)
            except OSError:
                return
            i = 12
            while data[i]:
                i += 1 + data[i]
            question = data[12:i + 5]
            if answer:
                record = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 300, 4) + socket.inet_aton(answer)
                reply = struct.pack(">HHHHH", 0x8180, 1, 1, 0, 0) + question + record
            else:
                reply = struct.pack(">HHHHH", 0x8183, 1, 0, 0, 0) + question
            sock.sendto(data[:2] + reply, peer)
    threading.Thread(target=serve, daemon=True).start()
    return sock


class Profile:
    def __init__(self, bin, home, name):
        self.bin, self.home, self.name = bin, Path(home), name
        self.env = dict(os.environ, CUBBY_HOME=str(home), KUBECONFIG=str(self.home / "kubeconfig"))

    def run(self, *args, input=None):
        return subprocess.run(args, env=self.env, input=input, capture_output=True, text=True, check=True, timeout=300).stdout

    def kubectl(self, *args, input=None):
        return self.run("kubectl", "--context", self.name, *args, input=input)

    def apply(self, obj):
        return self.kubectl("apply", "-f", "-", input=json.dumps(obj))


@contextlib.contextmanager
def containerd_profile(bin, prefix):
    """A started profile with the test images loaded; names outside the cluster get NXDOMAIN at once
    from a loopback resolver, as a real resolver answers a cluster-only name."""
    with tempfile.TemporaryDirectory(prefix=f"cubby-{prefix}-") as tmp:
        p = Profile(bin, tmp, f"{prefix}-{random.randrange(16 ** 4):04x}")
        resolver = loopback_resolver("127.0.0.56")
        (p.home / "resolv.conf").write_text("nameserver 127.0.0.56\n")
        subprocess.run([sys.executable, str(ROOT / "scripts/build-test-images.py"), str(p.home / "images")], check=True, capture_output=True)
        try:
            p.run(bin, "start", "-p", p.name, "--driver", "containerd", "--sandbox-image", "localhost/cubby/pause:3.10",
                  "--resolv-conf", str(p.home / "resolv.conf"))
            p.run(bin, "image", "load", str(p.home / "images/busybox.tar"), "-p", p.name)
            yield p
        finally:
            subprocess.run([bin, "delete", "-p", p.name], env=p.env, capture_output=True, timeout=120)
            resolver.close()
