import APIMachinery
import Foundation

/// Where one cluster's container runtime keeps its things. What lasts (images, snapshots, the CNI
/// and containerd configuration, pod volumes and logs) is under the cluster's data folder; what
/// lives only while it runs, and the sockets whose paths must stay short, under
/// /run/cubby/NAME. Both carry the cluster's name, and `cubby delete` removes both.
public struct RuntimeLayout: Sendable {
    public let name: String
    public let dataDirectory: URL

    public static let runRoot = URL(fileURLWithPath: "/run/cubby", isDirectory: true)

    public init(name: String, dataDirectory: URL) {
        self.name = name
        self.dataDirectory = dataDirectory
    }

    public var runDirectory: URL { Self.runRoot.appendingPathComponent(name, isDirectory: true) }
    public var socketPath: String { runDirectory.appendingPathComponent("containerd.sock").path }
    var statePath: String { runDirectory.appendingPathComponent("state").path }
    var runcRoot: String { runDirectory.appendingPathComponent("runc").path }
    var ipamPath: String { runDirectory.appendingPathComponent("ipam").path }
    var pidURL: URL { runDirectory.appendingPathComponent("containerd.pid") }
    /// Which data folder holds this name while the cluster exists.
    var ownerURL: URL { runDirectory.appendingPathComponent("owner") }

    var rootPath: String { dataDirectory.appendingPathComponent("containerd").path }
    var configURL: URL { dataDirectory.appendingPathComponent("containerd.toml") }
    public var logURL: URL { dataDirectory.appendingPathComponent("containerd.log") }
    var cniConfigPath: String { dataDirectory.appendingPathComponent("cni").path }
    /// Container logs, one folder per pod as the kubelet lays out /var/log/pods.
    public var podLogsDirectory: URL { dataDirectory.appendingPathComponent("logs/pods", isDirectory: true) }
    /// Pod volumes, one folder per pod uid as the kubelet's /var/lib/kubelet/pods.
    public var podsDirectory: URL { dataDirectory.appendingPathComponent("pods", isDirectory: true) }
    var networkURL: URL { dataDirectory.appendingPathComponent("network.json") }
    /// Pods' cgroups go under this parent, one level per QoS class as the kubelet's /kubepods.
    public var cgroupParent: String { "/cubby-\(name)" }
    /// The service proxy's nftables table.
    public var proxyTable: String { "cubby-\(name)" }
    /// The CNI network's name: CNI's iptables rules carry it in their comments.
    var cniNetworkName: String { "cubby-\(name)" }

    /// The Linux bridge: `cubby-NAME` when it fits the kernel's 15 characters, else the name
    /// shortened with a hash of it, so two long names stay apart.
    var bridgeName: String {
        let full = "cubby-\(name)"
        if full.count <= 15 { return full }
        let hash = FNV1a.hash32(name.utf8)
        return "cubby-" + name.prefix(4) + "-" + String(String(hash, radix: 16).prefix(4))
    }
}
