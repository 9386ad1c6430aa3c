import ArgumentParser
import Cluster
import Foundation
import Localkube
import Storage

/// Where a cluster keeps its objects: the flags of `cubby start` and `cubby localkube`, named as
/// kube-apiserver names its etcd flags.
struct StoreOptions: ParsableArguments {
    @Option(help: "Where the cluster's objects live: sqlite (one file, the default) or etcd.")
    var store: String?

    @Option(name: .customLong("etcd-servers"), help: "The etcd cluster's members, comma-separated (https://127.0.0.1:2379,...).")
    var etcdServers: String?

    @Option(name: .customLong("etcd-cafile"), help: "The CA that signed the etcd members' certificates.")
    var etcdCAFile: String?

    @Option(name: .customLong("etcd-certfile"), help: "The client certificate presented to etcd.")
    var etcdCertFile: String?

    @Option(name: .customLong("etcd-keyfile"), help: "The key of the client certificate presented to etcd.")
    var etcdKeyFile: String?

    @Option(name: .customLong("etcd-prefix"), help: "The prefix of every key in etcd (default /registry).")
    var etcdPrefix: String?

    var etcdFlagsGiven: Bool { [etcdServers, etcdCAFile, etcdCertFile, etcdKeyFile, etcdPrefix].contains { $0 != nil } }

    func validate() throws {
        if let store { guard ["sqlite", "etcd"].contains(store) else { throw ValidationError("--store must be sqlite or etcd") } }
        if store == "sqlite", etcdFlagsGiven { throw ValidationError("--etcd-* flags need --store etcd") }
    }

    /// The store of a localkube: etcd needs its servers (cubby start runs one when none are given).
    func choice() throws -> ControlPlane.Options.StoreChoice {
        guard store == "etcd" else { return .sqlite }
        guard let servers = etcdServers else { throw ValidationError("--store etcd needs --etcd-servers") }
        return .etcd(try EtcdConfiguration(servers: servers, caFile: etcdCAFile, certFile: etcdCertFile, keyFile: etcdKeyFile,
                                           prefix: etcdPrefix ?? EtcdConfiguration.defaultPrefix))
    }

    /// What `cubby start` records in the profile (nil: keep the profile's).
    func request(controlPlanes: Int?) -> ClusterLifecycle.StoreRequest {
        let etcd = etcdFlagsGiven ? Profile.EtcdSettings(servers: etcdServers, caFile: etcdCAFile.map(Self.absolute),
                                                         certFile: etcdCertFile.map(Self.absolute), keyFile: etcdKeyFile.map(Self.absolute),
                                                         prefix: etcdPrefix) : nil
        return .init(store: store, etcd: etcd, controlPlanes: controlPlanes)
    }

    static func absolute(_ path: String) -> String { URL(fileURLWithPath: path).standardizedFileURL.path }
}
