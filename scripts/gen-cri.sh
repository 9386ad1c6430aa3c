#!/usr/bin/env bash
# Regenerates Sources/CRI/ from cri-api's runtime/v1/api.proto (the kubelet's view of a container
# runtime): protobuf messages by protoc-gen-swift, client stubs by protoc-gen-grpc-swift-2. The output
# is committed; run this only to move to another cri-api version:
#
#   scripts/gen-cri.sh path/to/cri-api/pkg/apis/runtime/v1/api.proto
#
# protoc comes from Debian's protobuf-compiler; the two Swift plugins are built once, from the
# packages Package.swift already names, into .build-protoc/ (a few minutes the first time).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
proto="${1:?usage: $0 path/to/api.proto}"
command -v protoc >/dev/null || apt-get install -y -qq protobuf-compiler
plugins="$root/.build-protoc"
mkdir -p "$plugins"
cat > "$plugins/Package.swift" <<'SWIFT'
// swift-tools-version:6.1
import PackageDescription
let package = Package(name: "protoc-plugins", dependencies: [
    .package(url: "https://github.com/apple/swift-protobuf", exact: "1.39.0"),
    .package(url: "https://github.com/grpc/grpc-swift-protobuf", exact: "2.4.1"),
])
SWIFT
(cd "$plugins" && swift build -c release --product protoc-gen-swift && swift build -c release --product protoc-gen-grpc-swift-2)
bin="$(cd "$plugins" && swift build -c release --show-bin-path)"
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
