#!/usr/bin/env bash
# Regenerates Sources/CRI/ from cri-api's runtime/v1/api.proto (the kubelet's view of a container
# runtime): protobuf messages by protoc-gen-swift, client stubs by protoc-gen-grpc-swift-2. The output
# is committed; run this only to move to another cri-api version:
#
#   scripts/gen-cri.sh path/to/cri-api/pkg/apis/runtime/v1/api.proto
#
# protoc and its two Swift plugins: see scripts/protoc-plugins.sh.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
proto="${1:?usage: $0 path/to/api.proto}"
bin="$("$root/scripts/protoc-plugins.sh")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# The proto sits at its import path so the generated names match upstream's (runtime.v1).
mkdir -p "$work/runtime/v1"
# debug_redact (hide a credential in Go's text output) is newer than Debian 12's protoc and means
# nothing to Swift's generated code.
sed -E 's/ \[debug_redact = true\]//' "$proto" > "$work/runtime/v1/api.proto"
protoc -I "$work" \
  --plugin=protoc-gen-swift="$bin/protoc-gen-swift" --swift_out="$work" --swift_opt=Visibility=Public \
  --plugin=protoc-gen-grpc-swift-2="$bin/protoc-gen-grpc-swift-2" --grpc-swift-2_out="$work" \
  --grpc-swift-2_opt=Visibility=Public,Server=false,Client=true \
  runtime/v1/api.proto
mkdir -p "$root/Sources/CRI"
cp "$work/runtime/v1/api.pb.swift" "$root/Sources/CRI/api.pb.swift"
cp "$work/runtime/v1/api.grpc.swift" "$root/Sources/CRI/api.grpc.swift"
echo "regenerated Sources/CRI from $proto"
