import Foundation

/// The addresses of one cluster: its pod and service CIDRs, the node's share of the pod CIDR and,
/// with real pods, the bridge they sit on. The first cluster on a machine gets upstream's defaults
/// (pods 10.244.0.0/16, services 10.96.0.0/12, DNS 10.96.0.10); each further cluster that runs
/// real pods at the same time gets the next slot (pods 10.245.0.0/16 and services 10.112.0.0/16,
/// then 10.246 and 10.113, ...), so their routes and rules never overlap.
public struct ClusterNetwork: Codable, Sendable, Equatable {
    /// Which slot of the machine's address plan the cluster holds.
    public var slot: Int
    public var podCIDR: String
    public var serviceCIDR: String
    /// The Linux bridge the pods' veths join (none for simulated nodes).
    public var bridge: String

    public static let slots = 0...11

    public init(slot: Int, bridge: String) {
        self.slot = slot
        self.bridge = bridge
        podCIDR = "10.\(244 + slot).0.0/16"
        serviceCIDR = slot == 0 ? "10.96.0.0/12" : "10.\(111 + slot).0.0/16"
    }

    /// Upstream's defaults, for clusters whose pods need no kernel state (simulated nodes).
    public static let standard = ClusterNetwork(slot: 0, bridge: "")

    var servicePrefix: [Int] {
        serviceCIDR.split(separator: "/")[0].split(separator: ".").compactMap { Int($0) }
    }

    /// Node N's /24 of the pod CIDR, as a node's podCIDR.
    public func nodePodCIDR(_ index: Int) -> String { "10.\(244 + slot).\(index).0/24" }
    /// The bridge's address: the pods' gateway, and the node's address on the pod network.
    public func gateway(node index: Int = 0) -> String { "10.\(244 + slot).\(index).1" }
    /// The `kubernetes` service's cluster IP: the first address of the service CIDR.
    public var kubernetesServiceIP: String { servicePrefix.count == 4 ? "\(servicePrefix[0]).\(servicePrefix[1]).\(servicePrefix[2]).1" : "10.96.0.1" }
    /// The cluster DNS service's address, the tenth of the service CIDR (upstream's convention).
    public var dnsServiceIP: String { servicePrefix.count == 4 ? "\(servicePrefix[0]).\(servicePrefix[1]).\(servicePrefix[2]).10" : "10.96.0.10" }
    public static let clusterDomain = "cluster.local"
}
