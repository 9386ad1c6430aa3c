import APIMachinery

/// One port of one Service, with the endpoints traffic to it may go to: what kube-proxy's
/// ServicePortInfo and endpoints map hold, built from a Service and its EndpointSlices.
public struct ServicePort: Equatable, Sendable {
    public struct Endpoint: Equatable, Sendable {
        public var ip: String
        public var port: Int
        /// On this node (externalTrafficPolicy and internalTrafficPolicy Local keep to these).
        public var isLocal: Bool

        public init(ip: String, port: Int, isLocal: Bool) {
            self.ip = ip
            self.port = port
            self.isLocal = isLocal
        }
    }

    var namespace: String
    var name: String
    var portName: String
    /// `tcp`, `udp` or `sctp`, as nftables names the protocols.
    var proto: String
    var port: Int
    var clusterIPs: [String]
    var nodePort: Int?
    /// status.loadBalancer.ingress IPs that are not cluster IPs.
    var loadBalancerIPs: [String]
    var externalIPs: [String]
    /// ClientIP session affinity, and how long a client sticks.
    var affinityTimeout: Int?
    var externalPolicyLocal: Bool
    var internalPolicyLocal: Bool
    /// Ready endpoints, else (as upstream) the serving ones that are terminating.
    var endpoints: [Endpoint]

    /// `ns/name/proto/port`: kube-proxy's name for a service port, which chain names carry.
    var id: String { "\(namespace)/\(name)/\(proto)/\(portName)" }

    var localEndpoints: [Endpoint] { endpoints.filter(\.isLocal) }
    var hasExternalTraffic: Bool { nodePort != nil || !loadBalancerIPs.isEmpty || !externalIPs.isEmpty }

    /// The service ports of one Service: none for headless and ExternalName services, which
    /// DNS alone serves.
    public static func of(_ service: JSON, slices: [JSON], nodeName: String) -> [ServicePort] {
        let spec = service["spec"]
        let type = spec["type"].string ?? "ClusterIP"
        let clusterIPs = (spec["clusterIPs"].array?.compactMap(\.string) ?? spec["clusterIP"].string.map { [$0] } ?? [])
            .filter { $0 != "None" && !$0.isEmpty && !$0.contains(":") }
        guard type != "ExternalName", !clusterIPs.isEmpty else { return [] }
        let ingress = (service["status"]["loadBalancer"]["ingress"].array ?? []).compactMap { $0["ip"].string }
            .filter { !$0.contains(":") && !clusterIPs.contains($0) }
        let affinity = spec["sessionAffinity"].string == "ClientIP"
            ? Int(spec["sessionAffinityConfig"]["clientIP"]["timeoutSeconds"].int ?? 10800) : nil
        return (spec["ports"].array ?? []).compactMap { p -> ServicePort? in
            guard let port = p["port"].int else { return nil }
            let proto = (p["protocol"].string ?? "TCP").lowercased()
            let portName = p["name"].string ?? ""
            return ServicePort(
                namespace: service["metadata"]["namespace"].string ?? "", name: service["metadata"]["name"].string ?? "",
                portName: portName, proto: proto, port: Int(port), clusterIPs: clusterIPs,
                nodePort: type == "NodePort" || type == "LoadBalancer" ? p["nodePort"].int.map(Int.init) : nil,
                loadBalancerIPs: type == "LoadBalancer" ? ingress : [],
                externalIPs: (spec["externalIPs"].array ?? []).compactMap(\.string).filter { !$0.contains(":") },
                affinityTimeout: affinity,
                externalPolicyLocal: spec["externalTrafficPolicy"].string == "Local",
                internalPolicyLocal: spec["internalTrafficPolicy"].string == "Local",
                endpoints: endpoints(slices, portName: portName, proto: proto, nodeName: nodeName))
        }
    }

    /// The IPv4 endpoints of the slices for the port of this name and protocol: the ready ones,
    /// or when none is ready, the serving ones that are terminating (so a rolling update that
    /// briefly has only terminating pods does not drop connections).
    static func endpoints(_ slices: [JSON], portName: String, proto: String, nodeName: String) -> [Endpoint] {
        var ready: [Endpoint] = [], terminating: [Endpoint] = []
        for slice in slices where (slice["addressType"].string ?? "IPv4") == "IPv4" {
            guard let port = (slice["ports"].array ?? []).first(where: {
                ($0["name"].string ?? "") == portName && ($0["protocol"].string ?? "TCP").lowercased() == proto
            })?["port"].int else { continue }
            for e in slice["endpoints"].array ?? [] {
                guard let ip = e["addresses"][0].string else { continue }
                let conditions = e["conditions"]
                let endpoint = Endpoint(ip: ip, port: Int(port), isLocal: e["nodeName"].string == nodeName)
                // An unset ready condition means ready, as the EndpointSlice API says.
                if conditions["ready"].bool ?? true {
                    ready.append(endpoint)
                } else if conditions["serving"].bool == true && conditions["terminating"].bool == true {
                    terminating.append(endpoint)
                }
            }
        }
        let chosen = ready.isEmpty ? terminating : ready
        // One order, whatever order the slices came in: the rules stay the same when nothing changed.
        return chosen.sorted { ($0.ip, $0.port) < ($1.ip, $1.port) }
    }
}
