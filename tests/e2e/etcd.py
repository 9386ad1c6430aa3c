"""etcd members (Debian's etcd-server) on loopback, for the suites that run Cubby on etcd.

Each member lives in a folder of its own under one temporary directory; `stop()` kills every
member and removes the folder, so nothing outlives the tests.
"""
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request

from ports import free_port_run


class EtcdCluster:
    def __init__(self, members=1):
        self.dir = tempfile.mkdtemp(prefix="cubby-etcd-")
        self.names = [f"m{i}" for i in range(members)]
        first = free_port_run(2 * members)
        self.client_ports = [first + 2 * i for i in range(members)]
        self.peer_ports = [first + 2 * i + 1 for i in range(members)]
        self.procs = {}

    @property
    def servers(self):
        return ",".join(f"http://127.0.0.1:{p}" for p in self.client_ports)

    def _command(self, i):
        initial = ",".join(f"{n}=http://127.0.0.1:{p}" for n, p in zip(self.names, self.peer_ports))
        return ["etcd", "--name", self.names[i], "--data-dir", os.path.join(self.dir, self.names[i]),
                "--listen-client-urls", f"http://127.0.0.1:{self.client_ports[i]}",
                "--advertise-client-urls", f"http://127.0.0.1:{self.client_ports[i]}",
                "--listen-peer-urls", f"http://127.0.0.1:{self.peer_ports[i]}",
                "--initial-advertise-peer-urls", f"http://127.0.0.1:{self.peer_ports[i]}",
                "--initial-cluster", initial, "--initial-cluster-state", "new",
                "--initial-cluster-token", os.path.basename(self.dir),
                # Short elections keep failover tests short; the data stays fsynced as by default.
                "--heartbeat-interval", "50", "--election-timeout", "500"]

    def start_member(self, i):
        log = open(os.path.join(self.dir, f"{self.names[i]}.log"), "ab")
        self.procs[i] = subprocess.Popen(self._command(i), stdout=log, stderr=subprocess.STDOUT)

    def start(self):
        for i in range(len(self.names)):
            self.start_member(i)
        self.wait_healthy()
        return self

    def healthy(self, i):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.client_ports[i]}/health", timeout=1) as r:
                return b'"true"' in r.read()
        except OSError:
            return False

    def wait_healthy(self, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            # Every member, not just a quorum: a test that kills one must leave a quorum behind.
            if all(self.healthy(i) for i in self.procs):
                return
            time.sleep(0.1)
        raise RuntimeError("etcd did not become healthy:\n" + self.logs())

    def kill(self, i):
        p = self.procs.pop(i, None)
        if p and p.poll() is None:
            p.send_signal(signal.SIGKILL)
            p.wait()

    def logs(self):
        out = []
        for n in self.names:
            path = os.path.join(self.dir, f"{n}.log")
            if os.path.exists(path):
                out.append(open(path, errors="replace").read()[-2000:])
        return "\n".join(out)

    def stop(self):
        for i in list(self.procs):
            self.kill(i)
        shutil.rmtree(self.dir, ignore_errors=True)
