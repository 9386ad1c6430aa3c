import APIMachinery

/// The rules for a set of service ports, in the shape of upstream kube-proxy's nftables mode:
/// verdict maps from (address, protocol, port) to a chain per service port, `numgen random` to
/// spread new connections over the endpoints, dynamic sets for ClientIP affinity, and maps of the
/// services that have no endpoint so their traffic is refused at once. Unlike upstream, endpoints
/// get chains of their own only for affinity: one DNAT through a numgen map does the rest, which
/// keeps 1,000 services x 10 endpoints at 2,000 chains instead of 12,000 (a full sync is nft's
/// time, and it grows with the chains).
/// It is a value, so what changed since the last sync is a comparison of two of them.
public struct ProxyRuleset: Equatable, Sendable {
    public struct Configuration: Equatable, Sendable {
        public var podCIDR: String
        public var serviceCIDR: String
        /// The addresses node ports answer on: the node's, and 127.0.0.1.
        public var nodeAddresses: [String]
        /// When the bridge does not pass pod-to-pod frames through netfilter (br_netfilter),
        /// replies would skip the un-DNAT; then every service connection from a pod is masqueraded.
        public var masqueradePodTraffic: Bool

        public init(podCIDR: String, serviceCIDR: String, nodeAddresses: [String], masqueradePodTraffic: Bool) {
            self.podCIDR = podCIDR
            self.serviceCIDR = serviceCIDR
            self.nodeAddresses = nodeAddresses
            self.masqueradePodTraffic = masqueradePodTraffic
        }
    }

    /// Rules of each per-service and per-endpoint chain, by chain name.
    public internal(set) var chains: [String: [String]] = [:]
    /// `address . proto . port` to the verdict for a connection to a service address.
    var serviceIPs: [String: String] = [:]
    /// `proto . port` to the verdict for a connection to a node port.
    var nodePorts: [String: String] = [:]
    /// The same keys, for services whose traffic has nowhere to go: refused, or dropped when a
    /// Local traffic policy finds no endpoint on this node (as upstream).
    var noEndpointServices: [String: String] = [:]
    var noEndpointNodePorts: [String: String] = [:]
    /// ClientIP affinity sets, by name, with their timeout in seconds.
    var affinitySets: [String: Int] = [:]

    static let masqueradeBit = "0x4000"
    static let rejectChain = "reject-chain"

    init() {}

    public init(_ ports: [ServicePort], configuration: Configuration) {
        for port in ports { add(port, configuration) }
    }

    /// Several services' rules as one (they never share a chain, set or map key).
    public init(merging parts: some Sequence<ProxyRuleset>) {
        for part in parts {
            chains.merge(part.chains) { a, _ in a }
            serviceIPs.merge(part.serviceIPs) { a, _ in a }
            nodePorts.merge(part.nodePorts) { a, _ in a }
            noEndpointServices.merge(part.noEndpointServices) { a, _ in a }
            noEndpointNodePorts.merge(part.noEndpointNodePorts) { a, _ in a }
            affinitySets.merge(part.affinitySets) { a, _ in a }
        }
    }

    var isEmpty: Bool { self == ProxyRuleset() }

    mutating func add(_ sp: ServicePort, _ configuration: Configuration) {
        let hash = Self.hash(sp.id)
        let serviceChain = "service-\(hash)-\(sp.id)"
        let externalChain = "external-\(hash)-\(sp.id)"
        let localChain = "local-\(hash)-\(sp.id)"

        // Internal traffic (to the cluster IP): every endpoint, or the local ones.
        let toClusterIP = sp.internalPolicyLocal ? sp.localEndpoints : sp.endpoints
        for ip in sp.clusterIPs {
            let key = "\(ip) . \(sp.proto) . \(sp.port)"
            if !toClusterIP.isEmpty {
                serviceIPs[key] = "goto \(sp.internalPolicyLocal ? localChain : serviceChain)"
            } else {
                noEndpointServices[key] = sp.internalPolicyLocal && !sp.endpoints.isEmpty ? "drop" : "goto \(Self.rejectChain)"
            }
        }
        if !sp.endpoints.isEmpty {
            var rules: [String] = sp.clusterIPs.map { "ip daddr \($0) ip saddr != \(configuration.podCIDR) jump mark-for-masquerade" }
            if configuration.masqueradePodTraffic { rules.append("jump mark-for-masquerade") }
            rules += balance(sp.endpoints, sp)
            chains[serviceChain] = rules
        }
        if !sp.localEndpoints.isEmpty && (sp.internalPolicyLocal || sp.externalPolicyLocal) {
            var rules: [String] = configuration.masqueradePodTraffic ? ["jump mark-for-masquerade"] : []
            rules += balance(sp.localEndpoints, sp)
            chains[localChain] = rules
        }

        // External traffic (node ports, load balancer and external IPs): masqueraded so replies
        // come back this way, except with externalTrafficPolicy Local, which keeps the client's
        // address and only this node's endpoints (the host's own connections still masquerade).
        guard sp.hasExternalTraffic else { return }
        let external = sp.externalPolicyLocal ? sp.localEndpoints : sp.endpoints
        let verdict: String
        if external.isEmpty {
            verdict = ""
        } else if sp.externalPolicyLocal {
            chains[externalChain] = [
                "ip saddr \(configuration.podCIDR) goto \(serviceChain)",
                "fib saddr type local jump mark-for-masquerade",
                "fib saddr type local goto \(serviceChain)",
                "goto \(localChain)",
            ]
            verdict = "goto \(externalChain)"
        } else {
            chains[externalChain] = ["jump mark-for-masquerade", "goto \(serviceChain)"]
            verdict = "goto \(externalChain)"
        }
        let refused = sp.externalPolicyLocal && !sp.endpoints.isEmpty ? "drop" : "goto \(Self.rejectChain)"
        for ip in sp.loadBalancerIPs + sp.externalIPs {
            let key = "\(ip) . \(sp.proto) . \(sp.port)"
            if verdict.isEmpty { noEndpointServices[key] = refused } else { serviceIPs[key] = verdict }
        }
        if let nodePort = sp.nodePort {
            let key = "\(sp.proto) . \(nodePort)"
            if verdict.isEmpty { noEndpointNodePorts[key] = refused } else { nodePorts[key] = verdict }
        }
    }

    /// A pod reaching itself through its service is masqueraded (hairpin), so the reply comes
    /// back through the NAT. Then each new connection goes to a random endpoint, DNATed by one
    /// rule with a numgen map; with ClientIP affinity, through a chain per endpoint whose dynamic
    /// set remembers the clients it served, and which a returning client goes straight back to.
    mutating func balance(_ endpoints: [ServicePort.Endpoint], _ sp: ServicePort) -> [String] {
        let sources = Set(endpoints.map(\.ip)).sorted()
        var rules = ["ip saddr \(sources.count == 1 ? sources[0] : "{ " + sources.joined(separator: ", ") + " }") jump mark-for-masquerade"]
        guard let timeout = sp.affinityTimeout else {
            if endpoints.count == 1 {
                rules.append("meta l4proto \(sp.proto) dnat to \(endpoints[0].ip):\(endpoints[0].port)")
            } else {
                let arms = endpoints.enumerated().map { "\($0.offset) : \($0.element.ip) . \($0.element.port)" }.joined(separator: ", ")
                rules.append("meta l4proto \(sp.proto) dnat ip addr . port to numgen random mod \(endpoints.count) map { \(arms) }")
            }
            return rules
        }
        var targets: [String] = []
        for e in endpoints {
            let chain = "endpoint-\(Self.hash(sp.id + e.ip))-\(sp.id)__\(e.ip)/\(e.port)"
            let set = "affinity-\(Self.hash(chain))"
            targets.append(chain)
            affinitySets[set] = timeout
            rules.append("ip saddr @\(set) goto \(chain)")
            chains[chain] = ["update @\(set) { ip saddr }", "meta l4proto \(sp.proto) dnat to \(e.ip):\(e.port)"]
        }
        if targets.count == 1 {
            rules.append("goto \(targets[0])")
        } else {
            let arms = targets.enumerated().map { "\($0.offset) : goto \($0.element)" }.joined(separator: ", ")
            rules.append("numgen random mod \(targets.count) vmap { \(arms) }")
        }
        return rules
    }

    /// FNV-1a, as eight hex digits: chain names stay unique when a name is cut or reused.
    static func hash(_ s: String) -> String {
        let hex = String(FNV1a.hash32(s.utf8), radix: 16, uppercase: true)
        return String(repeating: "0", count: 8 - hex.count) + hex
    }
}
