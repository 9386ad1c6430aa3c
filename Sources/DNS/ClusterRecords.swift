/// One endpoint address as DNS serves it, under the name `host.service.namespace.svc.zone`.
struct EndpointRecord: Hashable, Sendable {
    var ip: IPv4Address
    /// The endpoint's hostname, or its dashed address when it has none (CoreDNS's
    /// endpointHostname), lowercased.
    var host: String
    var ports: [PortInfo]
}

/// Everything DNS answers about one service key: the Service (nil while only slices name it;
/// those still answer reverse lookups, as in CoreDNS) and the endpoints it publishes.
struct ServiceRecords: Sendable {
    var key: ServiceKey
    var service: ServiceInfo?
    var endpoints: [EndpointRecord]
    /// Indices into `endpoints` by host label: `HOST.SVC.NS.svc.ZONE` is one lookup.
    var endpointsByHost: [String: [Int]]

    init(key: ServiceKey, service: ServiceInfo?, slices: [SliceInfo]) {
        self.key = key
        self.service = service
        let publishNotReady = service?.publishNotReadyAddresses ?? false
        var endpoints: [EndpointRecord] = []
        for slice in slices {
            for endpoint in slice.endpoints where publishNotReady || endpoint.ready != false {
                for ip in endpoint.addresses {
                    endpoints.append(EndpointRecord(ip: ip, host: endpoint.hostname ?? ip.dashed, ports: slice.ports))
                }
            }
        }
        self.endpoints = endpoints
        var byHost: [String: [Int]] = [:]
        for (i, endpoint) in endpoints.enumerated() { byHost[endpoint.host, default: []].append(i) }
        endpointsByHost = byHost
    }
}

/// A reverse name for an endpoint address: `host.service.namespace.svc.zone`.
struct ReverseEndpoint: Hashable, Sendable {
    var service: ServiceKey
    var host: String
}

struct NamespaceRecords: Sendable {
    /// The Namespace object is known (services alone also make a namespace exist here, so a
    /// lagging namespace informer never hides them).
    var exists = false
    var services: [String: ServiceRecords] = [:]
    /// How many of `services` hold a Service (the others only slices), kept by `replace`.
    var serviceObjects = 0

    var isEmpty: Bool { !exists && services.isEmpty }
}

/// The index every query reads: a snapshot value, so a query works on one consistent state
/// without holding a lock, and every lookup is a dictionary access.
struct ClusterRecords: Sendable {
    var namespaces: [String: NamespaceRecords] = [:]
    /// Service keys by cluster IP, for PTR (the first answers, as in CoreDNS).
    var clusterIPs: [IPv4Address: [ServiceKey]] = [:]
    /// Endpoint names by address, for PTR of addresses no cluster IP claims.
    var endpointIPs: [IPv4Address: [ReverseEndpoint]] = [:]
    /// The SOA serial: Unix time of the last change, as CoreDNS's kubernetes plugin.
    var serial: UInt32 = 0
    /// Until the informers have listed once, a name not found may yet exist: SERVFAIL, not
    /// NXDOMAIN (as CoreDNS before its API has synced).
    var synced = false

    init(serial: UInt32 = 0, synced: Bool = false) {
        self.serial = serial
        self.synced = synced
    }

    /// A Service by lowercased namespace and name (entries held only by slices are not services).
    func service(namespace: String, name: String) -> ServiceRecords? {
        guard let records = namespaces[namespace]?.services[name], records.service != nil else { return nil }
        return records
    }

    func namespaceExists(_ namespace: String) -> Bool {
        guard let records = namespaces[namespace] else { return false }
        return records.exists || records.serviceObjects > 0
    }

    mutating func setNamespace(_ name: String, exists: Bool) {
        namespaces[name, default: NamespaceRecords()].exists = exists
        if namespaces[name]?.isEmpty == true { namespaces[name] = nil }
    }

    /// Puts one service key's records in place of the old, keeping the reverse indexes.
    mutating func replace(_ key: ServiceKey, with new: ServiceRecords?) {
        if let old = namespaces[key.namespace]?.services[key.name] {
            if case .clusterIP(let ips) = old.service?.kind {
                for ip in ips { Self.remove(ip, from: &clusterIPs) { $0 == key } }
            }
            for endpoint in old.endpoints { Self.remove(endpoint.ip, from: &endpointIPs) { $0.service == key } }
            if old.service != nil { namespaces[key.namespace]?.serviceObjects -= 1 }
        }
        if let new {
            namespaces[key.namespace, default: NamespaceRecords()].services[key.name] = new
            if new.service != nil { namespaces[key.namespace]?.serviceObjects += 1 }
            if case .clusterIP(let ips) = new.service?.kind {
                for ip in ips where !(clusterIPs[ip]?.contains(key) ?? false) { clusterIPs[ip, default: []].append(key) }
            }
            for endpoint in new.endpoints {
                let name = ReverseEndpoint(service: key, host: endpoint.host)
                if !(endpointIPs[endpoint.ip]?.contains(name) ?? false) { endpointIPs[endpoint.ip, default: []].append(name) }
            }
        } else {
            namespaces[key.namespace]?.services[key.name] = nil
            if namespaces[key.namespace]?.isEmpty == true { namespaces[key.namespace] = nil }
        }
    }

    private static func remove<T>(_ ip: IPv4Address, from index: inout [IPv4Address: [T]], where matches: (T) -> Bool) {
        index[ip]?.removeAll(where: matches)
        if index[ip]?.isEmpty == true { index[ip] = nil }
    }
}
