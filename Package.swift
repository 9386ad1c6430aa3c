// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "cubby",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "cubby", targets: ["cubby"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
    ],
    targets: [
        // JSON trees, object meta, selectors, Status errors: no dependencies.
        .target(name: "APIMachinery"),
        // The revision log behind a protocol: SQLite through GRDB, or etcd through its v3 gRPC API
        // (messages and stubs generated from etcd's protos by scripts/gen-etcd.sh).
        .target(name: "Storage", dependencies: [
            "APIMachinery", "GRPCTransport",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "GRPCCore", package: "grpc-swift-2"),
            .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
            .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
            .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        ]),
        // gRPC connections to grpc-go servers (containerd, etcd) that survive their PINGs.
        .target(name: "GRPCTransport", dependencies: [
            .product(name: "GRPCCore", package: "grpc-swift-2"),
            .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
        ]),
        // Go's regular expressions (RE2 syntax, linear-time matching), as CRD `pattern`s are checked.
        .target(name: "GoRegexp"),
        // Built-in resource declarations, one file per API group.
        // The Common Expression Language: CRD validation rules, admission policies, match conditions.
        .target(name: "CEL", dependencies: ["APIMachinery", "GoRegexp"]),
        .target(name: "Resources", dependencies: [
            "APIMachinery", "GoRegexp", "CEL",
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "SwiftASN1", package: "swift-asn1"),
        ]),
        // The generic store: one strategy-driven path for every resource.
        .target(name: "Registry", dependencies: ["APIMachinery", "Storage", "Resources", "CEL"]),
        // HTTPS transport, routing, discovery, OpenAPI, watch streams, authentication, authorization,
        // and the streams of exec, attach and port-forward (WebSocket and SPDY) to the node's runtime.
        .target(name: "APIServer", dependencies: [
            "APIMachinery", "Registry", "Resources",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdHTTP2", package: "hummingbird"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "NIOTLS", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOWebSocket", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
            .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The in-process client: informers, work queues, the controller loop, events.
        .target(name: "Client", dependencies: [
            "APIMachinery", "Registry", "Resources",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The default scheduler: filters, scores, binds.
        .target(name: "Scheduler", dependencies: ["APIMachinery", "Client"]),
        // The kubelet's view of a container runtime: CRI messages and client stubs generated from
        // cri-api's api.proto (scripts/gen-cri.sh), and a connection over the runtime's unix socket.
        .target(name: "CRI", dependencies: [
            "GRPCTransport",
            .product(name: "GRPCCore", package: "grpc-swift-2"),
            .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
            .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
            .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        ]),
        // Node agents behind one protocol: simulated nodes, and the kubelet that runs pods as
        // containers through CRI on a containerd (and CNI bridge) of the cluster's own.
        .target(name: "Nodes", dependencies: [
            "APIMachinery", "Resources", "Client", "CRI",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "GRPCCore", package: "grpc-swift-2"),
            .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Subprocess", package: "swift-subprocess"),
        ]),
        // Cluster DNS: the Kubernetes DNS specification served from informers, as CoreDNS's
        // kubernetes plugin serves it, over UDP and TCP; other names forwarded to the host's resolvers.
        .target(name: "DNS", dependencies: [
            "APIMachinery", "Client",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
        // kube-proxy's job: Services and EndpointSlices programmed into an nftables table of the
        // cluster's own.
        .target(name: "Proxy", dependencies: [
            "APIMachinery", "Client", "Nodes",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The controller manager's loops, one file each.
        .target(name: "Controllers", dependencies: [
            "APIMachinery", "Resources", "Client",
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "SwiftASN1", package: "swift-asn1"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // Composition root: builds and runs every component of one cluster.
        .target(name: "Localkube", dependencies: [
            "APIMachinery", "Storage", "Registry", "Resources", "APIServer", "Client", "Controllers", "Scheduler", "Nodes",
            "DNS", "Proxy",
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "SwiftASN1", package: "swift-asn1"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Profiles, kubeconfig merge, the localkube process: what `cubby start|stop|delete|status` do.
        .target(name: "Cluster", dependencies: [
            "Localkube", "Storage", "Nodes", "CRI", "APIMachinery",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Yams", package: "Yams"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .executableTarget(name: "cubby", dependencies: [
            "Localkube", "Cluster", "Nodes", "Storage", "APIServer", "APIMachinery",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // What the benchmarks share: a localkube on a fresh data dir, HTTPS clients, create load, watch delivery.
        .target(name: "BenchKit", dependencies: [
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ], path: "Benchmarks/BenchKit"),
        // Prints the figures docs/benchmarks.md records (run: make bench).
        .executableTarget(name: "cubby-bench", dependencies: [
            "BenchKit",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ], path: "Benchmarks/APIServerBench"),
        // Issue 16's soak: 100 clients writing and 1,000 watchers checking every event, for 10 minutes
        // (make soak) or 60 s (make soak-short, which CI runs).
        .executableTarget(name: "cubby-soak", dependencies: [
            "BenchKit",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ], path: "Benchmarks/Soak"),
        // Raw etcd puts, Cubby on SQLite and Cubby on that etcd, side by side in one run.
        .executableTarget(name: "cubby-store-bench", dependencies: [
            "BenchKit", "Storage", "GRPCTransport",
            .product(name: "GRPCCore", package: "grpc-swift-2"),
            .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
        ], path: "Benchmarks/StoreBench"),
        // In-process figures for the write engines: strategic merge patch and server-side apply.
        .executableTarget(name: "cubby-patch-bench", dependencies: ["APIMachinery", "Resources", "Registry", "Storage"],
                          path: "Benchmarks/PatchBench"),
        // Rule sync of the service proxy: 1,000 services x 10 endpoints, full and one change.
        .executableTarget(name: "cubby-proxy-bench", dependencies: ["APIMachinery", "Nodes", "Proxy"], path: "Benchmarks/ProxyBench"),
        // Pods and execs made straight through CRI, the floors the kubelet's pod start and
        // kubectl exec are measured against.
        .executableTarget(name: "cubby-cri-bench", dependencies: ["CRI", "APIServer"], path: "Benchmarks/CRIBench"),
        // libFuzzer targets for every parser and patch engine (run: make fuzz; scripts/fuzz.sh builds
        // it with -sanitize=fuzzer in a build directory of its own).
        .executableTarget(name: "cubby-fuzz", dependencies: ["APIMachinery", "Resources", "DNS", "Cluster", "LibFuzzerDriver"],
                          path: "Fuzz/cubby-fuzz"),
        .target(name: "LibFuzzerDriver", path: "Fuzz/LibFuzzerDriver"),
        .testTarget(name: "APIMachineryTests", dependencies: ["APIMachinery"]),
        .testTarget(name: "GoRegexpTests", dependencies: ["GoRegexp"]),
        .testTarget(name: "CELTests", dependencies: ["CEL"], exclude: ["testdata"]),
        .testTarget(name: "StorageTests", dependencies: ["Storage", "APIMachinery"]),
        .testTarget(name: "RegistryTests", dependencies: ["Registry", "Resources", "Storage", "APIMachinery"]),
        .testTarget(name: "ControllersTests", dependencies: [
            "Controllers", "Client", "APIMachinery",
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "SwiftASN1", package: "swift-asn1"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .testTarget(name: "NodesTests", dependencies: ["Nodes", "APIMachinery", "Resources"]),
        .testTarget(name: "DNSTests", dependencies: ["DNS", "APIMachinery"]),
        .testTarget(name: "ProxyTests", dependencies: ["Proxy", "APIMachinery"]),
    ]
)
