#!/usr/bin/env python3
"""Builds the images the tests run, as OCI archives, from files this machine has (no registry needed).

    python3 scripts/build-test-images.py OUTDIR

writes OUTDIR/busybox.tar: `docker.io/library/busybox:1.35`, Debian's busybox-static (a real busybox:
sh, httpd, wget, nslookup, ...) with a link for every applet. Load it with `cubby image load FILE`.
"""
import gzip
import hashlib
import io
import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile

ARCH = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
# Fixed times and owners, so the same inputs make the same digests.
EPOCH = 0


def blob(data, media_type):
    return {"mediaType": media_type, "digest": "sha256:" + hashlib.sha256(data).hexdigest(), "size": len(data)}


def layer(entries):
    """A gzipped layer tar from (path, kind, payload, mode) entries: kind is file, dir or symlink."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path, kind, payload, mode in entries:
            info = tarfile.TarInfo(path)
            info.mtime = EPOCH
            info.mode = mode
            if kind == "dir":
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif kind == "symlink":
                info.type = tarfile.SYMTYPE
                info.linkname = payload
                tar.addfile(info)
            else:
                info.size = len(payload)
                tar.addfile(info, io.BytesIO(payload))
    uncompressed = raw.getvalue()
    compressed = gzip.compress(uncompressed, mtime=EPOCH)
    return compressed, "sha256:" + hashlib.sha256(uncompressed).hexdigest()


def oci_archive(out, name, entries, config):
    """Writes an OCI image layout, as a tar, that `ctr images import` and `cubby image load` read."""
    layer_bytes, diff_id = layer(entries)
    image_config = {
        "architecture": ARCH, "os": "linux", "created": "1970-01-01T00:00:00Z",
        "config": config, "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created": "1970-01-01T00:00:00Z", "created_by": "cubby scripts/build-test-images.py"}],
    }
    config_bytes = json.dumps(image_config, sort_keys=True).encode()
    manifest = {
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": blob(config_bytes, "application/vnd.oci.image.config.v1+json"),
        "layers": [blob(layer_bytes, "application/vnd.oci.image.layer.v1.tar+gzip")],
    }
    manifest_bytes = json.dumps(manifest, sort_keys=True).encode()
    tag = name.rsplit(":", 1)[1]
    descriptor = blob(manifest_bytes, "application/vnd.oci.image.manifest.v1+json")
    descriptor["annotations"] = {"io.containerd.image.name": name, "org.opencontainers.image.ref.name": tag}
    descriptor["platform"] = {"architecture": ARCH, "os": "linux"}
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [descriptor]}
    files = [("oci-layout", json.dumps({"imageLayoutVersion": "1.0.0"}).encode()),
             ("index.json", json.dumps(index, sort_keys=True).encode())]
    for data in (config_bytes, manifest_bytes, layer_bytes):
        files.append(("blobs/sha256/" + hashlib.sha256(data).hexdigest(), data))
    tmp = out + ".tmp"
    with tarfile.open(tmp, mode="w") as tar:
        for d in ("blobs", "blobs/sha256"):
            info = tarfile.TarInfo(d)
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, EPOCH
            tar.addfile(info)
        for path, data in files:
            info = tarfile.TarInfo(path)
            info.size, info.mode, info.mtime = len(data), 0o644, EPOCH
            tar.addfile(info, io.BytesIO(data))
    os.replace(tmp, out)


def busybox_entries():
    path = shutil.which("busybox") or "/bin/busybox"
    if not os.path.exists(path):
        sys.exit("busybox not found: install busybox-static (scripts/install-test-deps.sh does)")
    with open(path, "rb") as f:
        binary = f.read()
    applets = subprocess.run([path, "--list-full"], capture_output=True, text=True, check=True).stdout.split()
    entries = [(d, "dir", None, 0o755) for d in ("bin", "sbin", "usr", "usr/bin", "usr/sbin", "etc", "tmp", "var", "var/www", "root", "home")]
    entries[entries.index(("tmp", "dir", None, 0o755))] = ("tmp", "dir", None, 0o1777)
    entries.append(("bin/busybox", "file", binary, 0o755))
    for applet in applets:
        if applet != "bin/busybox":
            entries.append((applet, "symlink", "/bin/busybox", 0o777))
    entries.append(("etc/passwd", "file", b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n", 0o644))
    entries.append(("etc/group", "file", b"root:x:0:\nnobody:x:65534:\n", 0o644))
    return entries


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    oci_archive(os.path.join(out, "busybox.tar"), "docker.io/library/busybox:1.35", busybox_entries(),
                {"Cmd": ["sh"], "Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]})


if __name__ == "__main__":
    main()
