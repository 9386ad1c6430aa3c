"""Faults a laptop's cluster meets (issue 16, item 6), each test checking that nothing acknowledged is lost: a full
disk under the data directory, a damaged write-ahead log and a cut-short state.db after kill -9, the profile's port
taken between stop and start, and the clock jumping a day ahead.

Covered elsewhere: kill -9 under 8 writers, 20 times over (test_storage_durability.py), a state.db that is not a
store at all (test_cli.py::test_corrupted_store_is_refused_at_once_with_one_line), a port taken at the first start
(test_cli.py::test_bad_input_is_one_line_and_changes_nothing).

What SQLite promises, and so what is asserted. Every frame of the write-ahead log carries a checksum that chains
through the frames before it; recovery replays frames up to the last commit before the first one that fails (or
none, when the log's header fails its own checksum), so a log cut or altered anywhere past what was already copied
into state.db yields the store as of an earlier commit: a consistent prefix of the writes, nothing half-applied.
Frames already copied into state.db (a checkpoint) are not protected that way, so the damage is placed after them.
A state.db cut short is found by SQLite when the file is shorter than its header says (no log), or when a missing
page is read; after an unclean stop localkube reads every page (quick_check) before serving, so a file missing only
pages of old revisions is refused too, rather than served until the first read of history finds the hole.
"""
import datetime
import errno
import glob
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import ssl
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from kubernetes import client, config, watch

from conftest import BIN, Cluster, free_port, sqlite_only, wait_for
from test_cli import Env

linux = pytest.mark.skipif(sys.platform != "linux", reason="LD_PRELOAD of libfaketime: Linux")
linux_root = pytest.mark.skipif(sys.platform != "linux" or os.geteuid() != 0, reason="mounts a file system: Linux, root")


_clients = []


def api_for(cluster):
    api = config.new_client_from_config(config_file=cluster.kubeconfig)
    _clients.append(api)
    return client.CoreV1Api(api)


def stop(cluster, check=True):
    """A clean stop (SIGTERM), with this process's connections closed first: localkube's graceful shutdown
    otherwise waits seconds for an idle keep-alive connection to go."""
    while _clients:
        _clients.pop().close()
    cluster.stop()
    if check:
        assert cluster.proc.returncode == 0


def configmap(name, size=0):
    return client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name), data={"v": "x" * size} if size else None)


def stored(api):
    """name -> resourceVersion of the ConfigMaps in default."""
    return {i.metadata.name: int(i.metadata.resource_version) for i in api.list_namespaced_config_map("default").items}


def integrity(db):
    conn = sqlite3.connect(str(db))
    try:
        return conn.execute("PRAGMA integrity_check").fetchall()
    finally:
        conn.close()


class follow:
    """Watches the ConfigMaps in default from `rv` in a thread of its own (one watch, 2 minutes at most), handing
    `sink` each event, until stop() (an error after that, the server going, is expected)."""

    def __init__(self, c, rv, sink):
        self.watch = watch.Watch()
        self.stopped = False
        api = api_for(c)

        def run():
            try:
                for event in self.watch.stream(api.list_namespaced_config_map, "default", resource_version=rv, timeout_seconds=120):
                    sink(event)
            except Exception:
                if not self.stopped:
                    raise
        threading.Thread(target=run, daemon=True).start()

    def stop(self):
        self.stopped = True
        self.watch.stop()


def localkube_refusal(data_dir):
    """Runs localkube on a data dir it should refuse: its exit status and stderr."""
    r = subprocess.run([BIN, "localkube", "--data-dir", str(data_dir), "--port", str(free_port()), "--driver", "simulated"],
                       capture_output=True, text=True, timeout=20)
    return r.returncode, r.stderr


def store_files(data_dir):
    """state.db and its log, byte for byte (the -shm is SQLite's scratch index, rebuilt by every open)."""
    return {name: (data_dir / name).read_bytes() for name in ("state.db", "state.db-wal") if (data_dir / name).exists()}


# A full disk


@linux_root
@sqlite_only
def test_full_disk_refuses_writes_with_a_clear_status_and_resumes_when_space_returns(tmp_path):
    """The data directory on a 24 MiB tmpfs, filled up: creates, updates and deletes are answered 500 InternalError
    saying the disk is full (kubectl prints it as it is), reads and watches go on, the process stays up; once space
    returns writes go on at once. Every write acknowledged is kept, every refused one left no trace, and the file
    passes SQLite's integrity check."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m,mode=0700", "cubby-test-full-disk", str(disk)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    c = Cluster(disk / "data")
    filler = disk / "filler"
    try:
        c.start()
        api = api_for(c)
        db = c.data_dir / "state.db"
        full = (f"Internal error occurred: the disk holding {db} is full: the write was not made; "
                "free some space and try again")
        acked = {}
        for i in range(10):
            acked[f"before-{i}"] = int(api.create_namespaced_config_map("default", configmap(f"before-{i}", 1000)).metadata.resource_version)

        # A watch opened now must see every acknowledged write after it, and nothing else.
        rv = api.list_namespaced_config_map("default").metadata.resource_version
        seen = []
        watcher = follow(c, rv, lambda event: seen.append(
            (event["type"], event["object"].metadata.name, int(event["object"].metadata.resource_version))))

        fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            for chunk in (1 << 20, 4096, 1):
                try:
                    while True:
                        os.write(fd, b"\0" * chunk)
                except OSError as e:
                    assert e.errno == errno.ENOSPC
        finally:
            os.close(fd)
        # SQLite may still have room inside its own files (a log rewound after a checkpoint): write until the
        # disk says no. Every answer is either an acknowledgement or the disk-full Status.
        refused = []

        def create(name, size):
            try:
                made = api.create_namespaced_config_map("default", configmap(name, size))
            except client.ApiException as e:
                status = json.loads(e.body)
                assert (e.status, status["kind"], status["reason"], status["code"], status["message"]) == \
                    (500, "Status", "InternalError", 500, full), e.body
                refused.append(name)
                return False
            acked[name] = int(made.metadata.resource_version)
            return True

        for i in range(300):
            if not create(f"filling-{i}", 60000):
                break
        assert refused, "a create was refused once the disk was full"
        for i in range(5):
            create(f"full-{i}", 10)
        assert len(refused) >= 5, f"creates on a full disk went on being made: {refused}"

        # Updates and deletes are refused alike and change nothing.
        with pytest.raises(client.ApiException) as update:
            api.patch_namespaced_config_map("before-0", "default", {"data": {"v": "changed"}})
        assert update.value.status == 500 and json.loads(update.value.body)["message"] == full
        with pytest.raises(client.ApiException) as delete:
            api.delete_namespaced_config_map("before-1", "default")
        assert delete.value.status == 500 and json.loads(delete.value.body)["message"] == full
        r = c.kubectl("create", "-f", "-", check=False, input="apiVersion: v1\nkind: ConfigMap\nmetadata: {name: by-kubectl}\n")
        assert r.returncode == 1
        assert r.stderr == f'Error from server (InternalError): error when creating "STDIN": {full}\n'
        refused.append("by-kubectl")

        # Reads go on: get, list, a new watch from the start, discovery, readiness; the process is up.
        assert c.proc.poll() is None
        assert api.read_namespaced_config_map("before-0", "default").data == {"v": "x" * 1000}
        assert stored(api).keys() >= acked.keys()
        assert not set(refused) & stored(api).keys()
        fresh = [e["object"].metadata.name for e in watch.Watch().stream(
            api_for(c).list_namespaced_config_map, "default", resource_version="0", timeout_seconds=1)]
        assert set(fresh) >= set(acked)
        assert c.kubectl("get", "--raw", "/readyz").stdout == "ok"
        assert c.kubectl("api-resources", "-o", "name").stdout.count("\n") > 50

        # Space returns: the very next write is made, and the ones after it.
        filler.unlink()
        for i in range(5):
            assert create(f"after-{i}", 1000), f"after-{i} refused with the disk free again"
        assert c.kubectl("delete", "configmap", "before-1").returncode == 0
        del acked["before-1"]
        c.kubectl("patch", "configmap", "before-0", "-p", '{"data":{"v":"changed"}}')

        # The watch saw every acknowledged create after it, in revision order, and no refused one.
        wait_for("the watch to see after-4", lambda: any(n == "after-4" for _, n, _ in seen), timeout=10)
        added = [(n, rv) for kind, n, rv in seen if kind == "ADDED"]
        assert [rv for _, rv in added] == sorted(rv for _, rv in added)
        assert dict(added) == {n: rv for n, rv in acked.items() if not n.startswith("before-")}
        assert not set(refused) & {n for _, n, _ in seen}
        watcher.stop()

        # After a restart (and straight from the file): everything acknowledged, nothing refused.
        stop(c)
        assert integrity(db) == [("ok",)]
        c.start()
        api = api_for(c)
        after = stored(api)
        acked["before-0"] = after["before-0"]  # patched after space returned
        assert {n: after.get(n) for n in acked} == acked
        assert not set(refused) & after.keys()
        assert api.read_namespaced_config_map("before-0", "default").data == {"v": "changed"}
    finally:
        stop(c, check=False)
        for attempt in range(50):
            if subprocess.run(["umount", str(disk)], capture_output=True).returncode == 0:
                break
            time.sleep(0.1)
        else:
            subprocess.run(["umount", "-l", str(disk)], check=True)


# A damaged write-ahead log, a cut-short state.db


def wal_index(data_dir):
    """From the -shm a killed localkube left: the last committed frame of the log, and how far a checkpoint may have
    copied frames into state.db (nBackfillAttempted: at or past every page it wrote)."""
    shm = (data_dir / "state.db-shm").read_bytes()
    mx_frame = struct.unpack_from("=I", shm, 16)[0]
    backfilled = max(struct.unpack_from("=I", shm, 96)[0], struct.unpack_from("=I", shm, 128)[0])
    complete = struct.unpack_from("=I", shm, 96)[0] == struct.unpack_from("=I", shm, 128)[0]
    page_size = struct.unpack_from(">I", (data_dir / "state.db-wal").read_bytes(), 8)[0]
    return mx_frame, backfilled, complete, page_size


def recovered_by_sqlite(data_dir, scratch):
    """What SQLite's own recovery reads from a copy of the (damaged) files: the newest revision, and name ->
    resourceVersion of the ConfigMaps in default (none when not even the tables are left)."""
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir()
    for name in ("state.db", "state.db-wal"):
        if (data_dir / name).exists():
            shutil.copy(data_dir / name, scratch / name)
    conn = sqlite3.connect(str(scratch / "state.db"))
    try:
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'log'").fetchone():
            return 0, {}
        newest = conn.execute("SELECT MAX(rev) FROM log").fetchone()[0] or 0
        rows = conn.execute("""
            SELECT l.key, l.rev FROM log l JOIN (SELECT key, MAX(rev) AS rev FROM log GROUP BY key) m
              ON l.key = m.key AND l.rev = m.rev
            WHERE l.deleted = 0 AND l.key >= '/registry/configmaps/default/' AND l.key < '/registry/configmaps/default0'
            """).fetchall()
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        return newest, {key.rsplit("/", 1)[1]: rev for key, rev in rows}
    finally:
        conn.close()


def write_until_killed(c, prefix, count, acked, attempted):
    """4 writers creating ConfigMaps of assorted sizes until `count` are acknowledged, then kill -9."""
    lock = threading.Lock()
    stop = threading.Event()
    mine = []

    def writer(w):
        api = api_for(c)
        i = 0
        while not stop.is_set():
            name = f"{prefix}-w{w}-{i}"
            with lock:
                attempted.add(name)
            try:
                made = api.create_namespaced_config_map("default", configmap(name, (i * 997 + w * 131) % 7000))
            except Exception:
                return  # killed under us: not acknowledged
            with lock:
                acked[name] = int(made.metadata.resource_version)
                mine.append(name)
            i += 1

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    wait_for(f"{count} acknowledged writes", lambda: len(mine) >= count, timeout=60, interval=0.005)
    c.stop(sig=signal.SIGKILL)
    stop.set()
    for t in threads:
        t.join(10)


def flip(path, offset):
    with open(path, "r+b") as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ 0x5A]))


@sqlite_only
def test_damaged_log_after_kill_9_serves_exactly_what_sqlite_recovers(tmp_path):
    """After kill -9 under 4 writers, the log is cut (inside a frame, at a frame's start), or a byte of a frame's
    page or checksum is changed, or its header is: localkube starts with exactly the store SQLite's recovery reads
    from a copy of the same files, and that store is a prefix of the acknowledged writes (every write up to some
    revision, none after it), always keeping what the last clean stop left in state.db. It passes the integrity check
    and takes new writes."""
    seed = int(os.environ.get("CUBBY_FAULT_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    print(f"CUBBY_FAULT_SEED={seed}")
    c = Cluster(tmp_path / "data")
    acked, attempted = {}, set()
    try:
        c.start()
        api = api_for(c)
        for i in range(40):
            acked[f"clean-{i}"] = int(api.create_namespaced_config_map("default", configmap(f"clean-{i}", 500)).metadata.resource_version)
        stop(c)  # a clean stop: these are in state.db itself, and the log is gone
        assert not (c.data_dir / "state.db-wal").exists()
        for round in range(3):
            c.start()
            write_until_killed(c, f"r{round}", 150, acked, attempted)
            mx_frame, backfilled, complete, page_size = wal_index(c.data_dir)
            if mx_frame - backfilled >= 8:
                break  # frames past any checkpoint to damage; else (a checkpoint just ran) write some more
        else:
            raise AssertionError("every kill came right after a checkpoint")
    finally:
        c.stop(sig=signal.SIGKILL)
    crashed = tmp_path / "crashed"
    shutil.copytree(c.data_dir, crashed)
    newest_all, everything = recovered_by_sqlite(crashed, tmp_path / "scratch")
    assert {n: everything.get(n) for n in acked} == acked, "the undamaged files hold every acknowledged write"

    def ours(objects):
        return {n: rv for n, rv in objects.items() if n in attempted or n.startswith("clean-")}

    def frame(k):
        return 32 + (k - 1) * (24 + page_size)
    k = rng.randrange(backfilled + 2, mx_frame + 1)  # past every frame a checkpoint may have copied
    damages = {
        "cut inside a frame": lambda wal: os.truncate(wal, frame(k) + 24 + rng.randrange(page_size)),
        "cut at a frame's start": lambda wal: os.truncate(wal, frame(k)),
        "a byte of a frame's page": lambda wal: flip(wal, frame(k) + 24 + rng.randrange(page_size)),
        "a byte of a frame's checksum": lambda wal: flip(wal, frame(k) + 16 + rng.randrange(8)),
    }
    if backfilled == 0 or complete:
        # With no checkpoint half done, state.db alone is a consistent store: the whole log may go.
        damages["a byte of the log's header"] = lambda wal: flip(wal, rng.randrange(32))
    for what, damage in damages.items():
        case = tmp_path / "case"
        shutil.rmtree(case, ignore_errors=True)
        shutil.copytree(crashed, case)
        damage(case / "state.db-wal")
        newest, expected = recovered_by_sqlite(case, tmp_path / "scratch")
        expected = ours(expected)
        d = Cluster(case)
        try:
            d.start()
            api = api_for(d)
            served = ours(stored(api))
            assert served == expected, f"{what} (seed {seed}): served other than SQLite recovers"
            # A prefix of the acknowledged writes: all up to `newest`, none after; the clean stop's all kept.
            assert {n: rv for n, rv in acked.items() if rv <= newest} == {n: rv for n, rv in served.items() if n in acked}, what
            assert all(f"clean-{i}" in served for i in range(40)), what
            assert newest < newest_all or what == "a byte of the log's header", f"{what}: the damage cost nothing"
            made = api.create_namespaced_config_map("default", configmap("after"))
            assert int(made.metadata.resource_version) > newest
            stop(d)
            assert integrity(case / "state.db") == [("ok",)], what
        finally:
            d.stop(sig=signal.SIGKILL)


@sqlite_only
def test_cut_short_state_db_is_refused_in_one_line_and_left_as_it_is(tmp_path):
    """state.db cut short, after a clean stop (no log) and after kill -9 (beside its log), and emptied beside its
    log: localkube refuses it at once in one line and changes neither state.db nor the log, even where every
    current object could be read (only an old revision's pages are gone). The untouched files then start whole,
    old revisions included."""
    c = Cluster(tmp_path / "data")
    try:
        c.start()
        api = api_for(c)
        # A big value replaced by a small one: the old revision's pages end the file.
        big = api.create_namespaced_config_map("default", configmap("big", 300000))
        api.patch_namespaced_config_map("big", "default", {"data": {"v": "small"}})
        acked = {n: int(api.create_namespaced_config_map("default", configmap(n, 100)).metadata.resource_version)
                 for n in (f"kept-{i}" for i in range(10))}
        stop(c)
        clean = tmp_path / "clean"
        shutil.copytree(c.data_dir, clean)
        db = c.data_dir / "state.db"
        size = db.stat().st_size
        assert size > 300000 and not (c.data_dir / "state.db-wal").exists()
        assert size % 4096 == 0
        # Cut by whole pages, SQLite finds the file shorter than its header says; cut inside a page, localkube
        # finds it is not a whole number of pages (SQLite would read the missing bytes as zeros).
        for cut in (size - 4096, size // 8192 * 4096, 4096, size - 1, size - 5000, 100):
            shutil.copy(clean / "state.db", db)
            os.truncate(db, cut)
            before = store_files(c.data_dir)
            t0 = time.monotonic()
            code, stderr = localkube_refusal(c.data_dir)
            assert time.monotonic() - t0 < 10
            why = "database disk image is malformed" if cut % 4096 == 0 else f"{cut} bytes long, not a whole number of its 4096-byte pages"
            assert (code, stderr) == (1, f"localkube: {db} is damaged ({why})\n"), cut
            assert store_files(c.data_dir) == before, f"cut at {cut}: the refusal changed the files"
            assert not (c.data_dir / "state.db-wal").exists()

        # After kill -9: the log holds the newest writes; state.db is cut where only the old revision lived.
        shutil.copy(clean / "state.db", db)
        c.start()
        api = api_for(c)
        for i in range(3):
            acked[f"late-{i}"] = int(api.create_namespaced_config_map("default", configmap(f"late-{i}")).metadata.resource_version)
        c.stop(sig=signal.SIGKILL)
        crashed = tmp_path / "crashed"
        shutil.copytree(c.data_dir, crashed)
        os.truncate(db, size // 2)
        before = store_files(c.data_dir)
        code, stderr = localkube_refusal(c.data_dir)
        assert code == 1 and len(stderr.splitlines()) == 1, stderr
        assert stderr.startswith(f"localkube: {db} is damaged ("), stderr
        assert store_files(c.data_dir) == before, "the refusal changed state.db or its log"

        # Emptied beside its log: SQLite would delete the log of an empty file; it is refused instead.
        os.truncate(db, 0)
        wal = (c.data_dir / "state.db-wal").stat().st_size
        before = store_files(c.data_dir)
        code, stderr = localkube_refusal(c.data_dir)
        assert (code, stderr) == (1, f"localkube: {db} is damaged (the file is empty, but its write-ahead log "
                                     f"state.db-wal holds {wal} bytes)\n")
        assert store_files(c.data_dir) == before

        # The files as the kill left them: everything, and the old revision too.
        for name in ("state.db", "state.db-wal"):
            shutil.copy(crashed / name, c.data_dir / name)
        c.start()
        api = api_for(c)
        assert {n: rv for n, rv in stored(api).items() if n in acked} == acked
        assert api.read_namespaced_config_map("big", "default").data == {"v": "small"}
        old = api.list_namespaced_config_map("default", resource_version=big.metadata.resource_version,
                                             resource_version_match="Exact", field_selector="metadata.name=big")
        assert old.items[0].data == {"v": "x" * 300000}
        stop(c)
        assert integrity(db) == [("ok",)]
    finally:
        c.stop(sig=signal.SIGKILL)


@sqlite_only
def test_start_refuses_an_emptied_state_db_beside_its_log_and_keeps_the_log(tmp_path):
    """`cubby start` on a profile whose state.db was emptied after a crash: one line, nothing of the profile
    changed (its log, which holds the objects, is kept); with state.db back, the cluster starts with them."""
    e = Env(tmp_path)
    try:
        e.start("--port", str(free_port()))
        e.kubectl("create", "configmap", "kept", "--from-literal=a=b")
        profile = e.home / "profiles" / "cubby"
        os.kill(int((profile / "localkube.pid").read_text()), signal.SIGKILL)
        wait_for("localkube to die", lambda: e.cubby("status", check=False).returncode != 0, timeout=10)
        saved = (profile / "state.db").read_bytes()
        os.truncate(profile / "state.db", 0)
        wal = (profile / "state.db-wal").stat().st_size
        assert wal > 32
        before = store_files(profile)
        r = e.cubby("start", check=False)
        assert r.returncode == 1
        assert r.stderr == (f'❌  profile "cubby": {profile / "state.db"} is damaged (the file is empty, but its write-ahead log '
                            f'state.db-wal holds {wal} bytes)\n')
        assert store_files(profile) == before
        (profile / "state.db").write_bytes(saved)
        e.cubby("start")
        assert e.kubectl("get", "configmap", "kept", "-o", "jsonpath={.data.a}").stdout == "b"
    finally:
        e.cubby("delete", check=False)


# The profile's port taken between stop and start


def test_profile_port_taken_between_stop_and_start(tmp_path):
    """While another process holds the profile's port: `cubby start --port P` (asked for) is refused in one line
    naming it, the profile untouched; `cubby start` (the remembered port) says it moves to the next free port, and
    records it, and kubectl follows; with the port free again `cubby start --port P` goes back to it. localkube
    itself, on a port taken under it, names the port. The objects are there every time."""
    e = Env(tmp_path)
    port = free_port()
    profile = e.home / "profiles" / "cubby"
    holder = socket.socket()
    try:
        e.start("--port", str(port))
        e.kubectl("create", "configmap", "kept", "--from-literal=a=b")
        e.cubby("stop")
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # the port may be in TIME_WAIT after the stop
        holder.bind(("127.0.0.1", port))
        holder.listen()
        files = {p.name: p.read_bytes() for p in profile.iterdir() if p.is_file()}

        r = e.cubby("start", "--port", str(port), check=False)
        assert r.returncode == 1
        assert r.stderr == f"❌  port {port} is already in use; choose another with --port\n"
        assert {p.name: p.read_bytes() for p in profile.iterdir() if p.is_file()} == files
        assert e.cubby("status", check=False).stdout.splitlines()[2] == "host: Stopped"

        r = e.cubby("start")
        moved = json.loads((profile / "config.json").read_text())["port"]
        assert moved != port
        assert f"🔀  Port {port} is taken; using {moved}" in r.stdout.splitlines()
        assert f"🔥  Starting control plane (localkube) on https://127.0.0.1:{moved} ..." in r.stdout.splitlines()
        assert e.kubectl("config", "view", "--minify", "-o", "jsonpath={.clusters[0].cluster.server}").stdout == \
            f"https://127.0.0.1:{moved}"
        assert e.kubectl("get", "configmap", "kept", "-o", "jsonpath={.data.a}").stdout == "b"
        e.cubby("stop")

        # localkube started by hand on the held port (as when the port is taken after cubby looked).
        data = tmp_path / "by-hand"
        r = subprocess.run([BIN, "localkube", "--data-dir", str(data), "--port", str(port), "--driver", "simulated"],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 1
        assert r.stderr.splitlines()[-1] == (f"localkube: port {port} is already in use (on 127.0.0.1); "
                                             "stop what holds it or choose another with --port")

        holder.close()
        e.start("--port", str(port))
        assert json.loads((profile / "config.json").read_text())["port"] == port
        assert e.kubectl("get", "configmap", "kept", "-o", "jsonpath={.data.a}").stdout == "b"
    finally:
        holder.close()
        e.cubby("delete", check=False)


# The clock a day ahead


def libfaketime():
    found = sorted(glob.glob("/usr/lib/*/faketime/libfaketime.so.1") + glob.glob("/usr/lib/faketime/libfaketime.so.1")
                   + glob.glob("/usr/local/lib/faketime/libfaketime.so.1"))
    if not found:
        pytest.skip("libfaketime is not installed (scripts/install-test-deps.sh installs it)")
    return found[0]


def bearer(c, token, path="/apis/authentication.k8s.io/v1/selfsubjectreviews"):
    """POSTs a SelfSubjectReview with a bearer token: the HTTP status (201 Created) and the user name (or the Status's reason)."""
    ctx = ssl.create_default_context(cafile=str(c.data_dir / "pki" / "ca.crt"))
    ctx.check_hostname = False
    body = json.dumps({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}).encode()
    request = urllib.request.Request(f"https://127.0.0.1:{c.port}{path}", data=body, method="POST",
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, context=ctx, timeout=10) as r:
            return r.status, json.load(r)["status"]["userInfo"]["username"]
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)["reason"]


@linux
def test_clock_jumping_a_day_ahead(tmp_path):
    """localkube's clock (libfaketime; the machine's is left alone) jumps a day ahead while it runs: node leases are
    renewed at the new time and the node is Ready again within a renewal (a moment of Unknown is upstream's behaviour
    too), its pods are the same pods, a token issued for 10 minutes before the jump is refused (401) while one for
    48 hours and one issued after the jump work, the certificates (a year) still serve kubectl and none is renewed,
    a watch opened before the jump sees writes after it, and every object acknowledged before is there."""
    lib = libfaketime()
    offset = tmp_path / "clock-offset"
    offset.write_text("+0\n")
    c = Cluster(tmp_path / "data")
    pid = None
    try:
        with pytest.MonkeyPatch.context() as env:
            env.setenv("LD_PRELOAD", lib)
            env.setenv("FAKETIME_TIMESTAMP_FILE", str(offset))
            env.setenv("FAKETIME_CACHE_DURATION", "1")  # the offset file is read again every second
            env.setenv("FAKETIME_DONT_FAKE_MONOTONIC", "1")  # timers and timeouts keep real time
            # Swift's runtime on Linux finds argv next to the environment on the initial stack; libfaketime 0.9.10
            # adds FAKETIME_SHARED with setenv, which moves the environment to the heap, and the program then sees
            # no arguments at all. Set beforehand (to no semaphore), the variable is replaced in place instead.
            env.setenv("FAKETIME_SHARED", "/cubby-test-none /cubby-test-none")
            env.delenv("FAKETIME", raising=False)
            c.start()
        pid = c.proc.pid
        api = api_for(c)
        apps = client.AppsV1Api(api.api_client)
        acked = {n: int(api.create_namespaced_config_map("default", configmap(n, 100)).metadata.resource_version)
                 for n in (f"before-{i}" for i in range(5))}
        c.kubectl("create", "deployment", "web", "--image=nginx", "--replicas=2")
        pods = wait_for("2 running pods", lambda: (lambda items: {p.metadata.uid for p in items} if len(items) == 2 and all(
            p.status.phase == "Running" for p in items) else None)(api.list_namespaced_pod("default", label_selector="app=web").items))
        c.kubectl("create", "serviceaccount", "clock")
        short = c.kubectl("create", "token", "clock", "--duration=10m").stdout.strip()
        long = c.kubectl("create", "token", "clock", "--duration=48h").stdout.strip()
        assert bearer(c, short) == (201, "system:serviceaccount:default:clock")
        node = api.list_node().items[0].metadata.name
        pki = {p.name: p.read_bytes() for p in (c.data_dir / "pki").iterdir()}

        rv = api.list_namespaced_config_map("default").metadata.resource_version
        seen = []
        watcher = follow(c, rv, lambda event: seen.append(event["object"].metadata.name))

        jumped = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=23)
        offset.with_suffix(".new").write_text("+1d\n")
        os.replace(offset.with_suffix(".new"), offset)

        def written_after_jump():
            name = f"after-{time.monotonic_ns()}"
            made = api.create_namespaced_config_map("default", configmap(name))
            acked[name] = int(made.metadata.resource_version)
            return made.metadata.creation_timestamp > jumped
        wait_for("localkube's clock to jump", written_after_jump, timeout=10, interval=0.3)

        assert bearer(c, short) == (401, "Unauthorized")
        assert bearer(c, long) == (201, "system:serviceaccount:default:clock")
        fresh = c.kubectl("create", "token", "clock", "--duration=10m").stdout.strip()
        assert bearer(c, fresh) == (201, "system:serviceaccount:default:clock")

        # The admin's client certificate (kubectl's credentials here) and the serving certificate still work.
        assert "client-certificate-data" in Path(c.kubeconfig).read_text()
        assert c.kubectl("get", "configmap", "before-0", "-o", "name").stdout == "configmap/before-0\n"

        def renewed_and_ready():
            lease = client.CoordinationV1Api(api.api_client).read_namespaced_lease(node, "kube-node-lease")
            n = api.read_node(node)
            ready = [cond.status for cond in n.status.conditions if cond.type == "Ready"]
            unhealthy = [t.key for t in n.spec.taints or [] if t.key.startswith("node.kubernetes.io/")]
            return lease.spec.renew_time > jumped and ready == ["True"] and not unhealthy
        wait_for("the node's lease renewed after the jump and the node Ready", renewed_and_ready, timeout=40, interval=0.5)
        current = api.list_namespaced_pod("default", label_selector="app=web").items
        assert {p.metadata.uid for p in current} == pods and all(p.status.phase == "Running" for p in current)
        wait_for("the deployment's 2 pods ready", lambda: apps.read_namespaced_deployment("web", "default").status.ready_replicas == 2)

        wait_for("the watch to see the writes after the jump", lambda: set(seen) >= {n for n in acked if n.startswith("after-")}, timeout=10)
        watcher.stop()
        assert {n: rv for n, rv in stored(api).items() if n in acked} == acked
        assert {p.name: p.read_bytes() for p in (c.data_dir / "pki").iterdir()} == pki, "a certificate was renewed"
        stop(c)
    finally:
        c.stop(sig=signal.SIGKILL)
        if pid:
            for leftover in (f"/dev/shm/faketime_shm_{pid}", f"/dev/shm/sem.faketime_sem_{pid}"):
                if os.path.exists(leftover):
                    os.unlink(leftover)
