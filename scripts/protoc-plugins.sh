#!/usr/bin/env bash
# Builds protoc's two Swift plugins (protoc-gen-swift, protoc-gen-grpc-swift-2) once, from the
# packages Package.swift already names, into .build-protoc/, and prints the folder they are in.
# Used by the generators of committed gRPC code (gen-cri.sh, gen-etcd.sh); a few minutes the first
# time. protoc itself comes from Debian's protobuf-compiler.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
command -v protoc >/dev/null || apt-get install -y -qq protobuf-compiler >&2
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
(cd "$plugins" && swift build -c release --product protoc-gen-swift >&2 && swift build -c release --product protoc-gen-grpc-swift-2 >&2)
cd "$plugins" && swift build -c release --show-bin-path
