#!/usr/bin/env python3
"""Cuts etcd's v3 API protos down to what Cubby's store calls, for scripts/gen-etcd.sh.

etcd's rpc.proto carries grpc-gateway, OpenAPI and etcd-version annotations whose imports protoc
cannot resolve outside etcd's tree, and ten services of which the store needs a handful of calls.
This keeps the named RPCs and the messages and enums they reach, drops every annotation (none
changes the wire format), and writes one self-contained proto per package.

    trim-etcd-proto.py ETCD_CHECKOUT OUT_DIR
"""
import re
import sys
from pathlib import Path

# service -> the RPCs kept (what Sources/Storage/Etcd/ calls).
KEEP = {
    "KV": ["Range", "Put", "DeleteRange", "Txn", "Compact"],
    "Watch": ["Watch"],
}


def strip_annotations(text: str) -> str:
    # option (x.y) = { ... };  (balanced braces, possibly nested)
    out, i = [], 0
    pattern = re.compile(r"option\s*\([^)]*\)\s*=\s*\{")
    while True:
        m = pattern.search(text, i)
        if not m:
            out.append(text[i:])
            break
        out.append(text[i:m.start()])
        depth, j = 1, m.end()
        while depth:
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            j += 1
        i = text.index(";", j) + 1
    text = "".join(out)
    text = re.sub(r"\s*option\s*\([^)]*\)\s*=\s*\"[^\"]*\"\s*;", "", text)   # option (versionpb.x) = "3.0";
    text = re.sub(r"\s*\[\((versionpb|gogoproto)\.[^\]]*\]", "", text)      # field [(versionpb.x)="3.1"]
    text = re.sub(r"^option\s+\(gogoproto\.[^;]*;\n", "", text, flags=re.M)      # option (gogoproto.x) = true;
    text = re.sub(r"^import\s+\"(google|protoc-gen|gogoproto|etcd/api/versionpb|etcd/api/authpb).*\n", "", text, flags=re.M)
    text = re.sub(r"^option\s+go_package.*\n", "", text, flags=re.M)
    # An RPC whose body only held annotations becomes a plain declaration.
    text = re.sub(r"(rpc\s+\w+\s*\([^)]*\)\s*returns\s*\([^)]*\))\s*\{\s*\}", r"\1;", text)
    return text


def blocks(text: str):
    """Top-level `message|enum|service NAME { ... }` blocks with their leading comments."""
    found = []
    for m in re.finditer(r"^(?:(?://[^\n]*\n)*)(message|enum|service)\s+(\w+)\s*\{", text, flags=re.M):
        depth, j = 1, m.end()
        while depth:
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            j += 1
        found.append((m.group(1), m.group(2), text[m.start():j]))
    return found


def trim(rpc: str) -> str:
    text = strip_annotations(rpc)
    header = text[: re.search(r"^(?://[^\n]*\n)*(message|enum|service)\s", text, flags=re.M).start()]
    header = header.replace('import "etcd/api/mvccpb/kv.proto";', 'import "mvccpb/kv.proto";')
    parts = blocks(text)
    types = {name: body for kind, name, body in parts if kind != "service"}
    kept_services, wanted = [], []
    for kind, name, body in parts:
        if kind != "service" or name not in KEEP:
            continue
        rpcs = re.findall(r"(?:[ \t]*//[^\n]*\n)*[ \t]*rpc\s+(\w+)\s*\(\s*(?:stream\s+)?(\w+)\s*\)\s*returns\s*\(\s*(?:stream\s+)?(\w+)\s*\)\s*;", body)
        decls = re.findall(r"(?:[ \t]*//[^\n]*\n)*[ \t]*rpc\s+\w+[^;]*;", body)
        keep = [d for d, (n, _, _) in zip(decls, rpcs) if n in KEEP[name]]
        if len(keep) != len(KEEP[name]):
            sys.exit(f"{name}: expected RPCs {KEEP[name]} not all found")
        for n, req, resp in rpcs:
            if n in KEEP[name]:
                wanted += [req, resp]
        kept_services.append(f"service {name} {{\n" + "\n".join(keep) + "\n}\n")
    reached = set()
    while wanted:
        t = wanted.pop()
        if t in reached or t not in types:
            continue
        reached.add(t)
        wanted += [w for w in re.findall(r"\b([A-Z]\w*)\b", types[t]) if w in types]
    kept_types = [body for kind, name, body in parts if kind != "service" and name in reached]
    return header + "\n".join(kept_services) + "\n" + "\n\n".join(kept_types) + "\n"


def main():
    etcd, out = Path(sys.argv[1]), Path(sys.argv[2])
    (out / "etcdserverpb").mkdir(parents=True, exist_ok=True)
    (out / "mvccpb").mkdir(parents=True, exist_ok=True)
    kv = strip_annotations((etcd / "api/mvccpb/kv.proto").read_text())
    (out / "mvccpb/kv.proto").write_text(kv)
    (out / "etcdserverpb/rpc.proto").write_text(trim((etcd / "api/etcdserverpb/rpc.proto").read_text()))


if __name__ == "__main__":
    main()
