import APIMachinery

/// A port as DNS names it: `_name._protocol` in SRV names, the number in SRV data.
struct PortInfo: Hashable, Sendable {
    /// Lowercased; "" for an unnamed port.
    var name: String
    /// Lowercased: tcp, udp, sctp.
    var proto: String
    /// -1 when a slice lists no ports (CoreDNS's sentinel: such endpoints get A records, no SRV).
    var port: Int32

    static let none = PortInfo(name: "", proto: "", port: -1)
}

/// What the DNS reads of a Service.
struct ServiceInfo: Hashable, Sendable {
    enum Kind: Hashable, Sendable {
        case clusterIP([IPv4Address])
        case headless
        /// The target as written, without a trailing dot.
        case externalName(String)
    }

    var namespace: String
    var name: String
    var kind: Kind
    var ports: [PortInfo]
    /// Not-ready endpoints are published too (upstream's endpointslice controller marks them
    /// ready then; reading the flag here keeps DNS right whichever way the slices are written).
    var publishNotReadyAddresses: Bool

    init?(_ service: JSON) {
        let meta = service["metadata"], spec = service["spec"]
        guard let namespace = meta["namespace"].string, let name = meta["name"].string else { return nil }
        self.namespace = namespace.lowercased()
        self.name = name.lowercased()
        if spec["type"].string == "ExternalName" {
            var target = spec["externalName"].string ?? ""
            while target.hasSuffix(".") { target.removeLast() }
            kind = .externalName(target)
        } else if spec["clusterIP"].string == "None" || spec["clusterIPs"][0].string == "None" {
            kind = .headless
        } else {
            let ips = spec["clusterIPs"].array?.compactMap(\.string) ?? spec["clusterIP"].string.map { [$0] } ?? []
            kind = .clusterIP(ips.compactMap { IPv4Address($0) })
        }
        ports = (spec["ports"].array ?? []).map { p in
            PortInfo(name: (p["name"].string ?? "").lowercased(), proto: (p["protocol"].string ?? "TCP").lowercased(),
                     port: Int32(clamping: p["port"].int ?? -1))
        }
        publishNotReadyAddresses = spec["publishNotReadyAddresses"].bool ?? false
    }

    init(namespace: String, name: String, kind: Kind, ports: [PortInfo], publishNotReadyAddresses: Bool = false) {
        self.namespace = namespace
        self.name = name
        self.kind = kind
        self.ports = ports
        self.publishNotReadyAddresses = publishNotReadyAddresses
    }
}

/// What the DNS reads of an EndpointSlice: the service it belongs to (label
/// `kubernetes.io/service-name`), its IPv4 endpoints and its ports.
struct SliceInfo: Hashable, Sendable {
    struct Endpoint: Hashable, Sendable {
        var addresses: [IPv4Address]
        /// Lowercased, when the endpoint has one (a StatefulSet pod under its governing service).
        var hostname: String?
        /// nil is unknown, which consumers treat as ready (discovery/v1's documentation).
        var ready: Bool?
    }

    var service: ServiceKey
    var endpoints: [Endpoint]
    /// Never empty: a slice without ports gets the `PortInfo.none` sentinel.
    var ports: [PortInfo]

    init?(_ slice: JSON) {
        let meta = slice["metadata"]
        guard let namespace = meta["namespace"].string,
              let service = meta["labels"]["kubernetes.io/service-name"].string else { return nil }
        self.service = ServiceKey(namespace: namespace.lowercased(), name: service.lowercased())
        // Only IPv4 slices answer A queries; IPv6 and FQDN slices have nothing for this server.
        let ipv4 = (slice["addressType"].string ?? "IPv4") == "IPv4"
        endpoints = !ipv4 ? [] : (slice["endpoints"].array ?? []).map { e in
            Endpoint(addresses: (e["addresses"].array ?? []).compactMap { $0.string.flatMap { IPv4Address($0) } },
                     hostname: e["hostname"].string.map { $0.lowercased() },
                     ready: e["conditions"]["ready"].bool)
        }
        let ports = (slice["ports"].array ?? []).map { p in
            PortInfo(name: (p["name"].string ?? "").lowercased(), proto: (p["protocol"].string ?? "").lowercased(),
                     port: Int32(clamping: p["port"].int ?? -1))
        }
        self.ports = ports.isEmpty ? [.none] : ports
    }

    init(service: ServiceKey, endpoints: [Endpoint], ports: [PortInfo]) {
        self.service = service
        self.endpoints = endpoints
        self.ports = ports.isEmpty ? [.none] : ports
    }
}

/// A service's namespace and name, lowercased.
struct ServiceKey: Hashable, Sendable, Comparable {
    var namespace: String
    var name: String

    static func < (lhs: Self, rhs: Self) -> Bool { (lhs.namespace, lhs.name) < (rhs.namespace, rhs.name) }
}
