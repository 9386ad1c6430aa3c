#!/usr/bin/env bash
# Regenerates Sources/Storage/Etcd/Generated/ from etcd's v3 API protos (api/etcdserverpb/rpc.proto
# and api/mvccpb/kv.proto of an etcd checkout): protobuf messages by protoc-gen-swift, client stubs
# by protoc-gen-grpc-swift-2, for the RPCs scripts/trim-etcd-proto.py keeps. The output is
# committed; run this only to move to another etcd API version:
#
#   scripts/gen-etcd.sh path/to/etcd        # generated from etcd v3.6.14's api/
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
etcd="${1:?usage: $0 path/to/etcd-checkout}"
bin="$("$root/scripts/protoc-plugins.sh")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 "$root/scripts/trim-etcd-proto.py" "$etcd" "$work"
# Public, as the CRI stubs: the store bench loads etcd through them directly.
protoc -I "$work" \
  --plugin=protoc-gen-swift="$bin/protoc-gen-swift" --swift_out="$work" --swift_opt=Visibility=Public \
  --plugin=protoc-gen-grpc-swift-2="$bin/protoc-gen-grpc-swift-2" --grpc-swift-2_out="$work" \
  --grpc-swift-2_opt=Visibility=Public,Server=false,Client=true \
  mvccpb/kv.proto etcdserverpb/rpc.proto
out="$root/Sources/Storage/Etcd/Generated"
mkdir -p "$out"
cp "$work/mvccpb/kv.pb.swift" "$out/kv.pb.swift"
cp "$work/etcdserverpb/rpc.pb.swift" "$out/rpc.pb.swift"
cp "$work/etcdserverpb/rpc.grpc.swift" "$out/rpc.grpc.swift"
echo "regenerated $out from $etcd"
