/// The cluster zone's answers, following the Kubernetes DNS specification as CoreDNS's kubernetes
/// plugin serves it with its defaults (`pods insecure`, `ttl 5`, the reverse zones with
/// `fallthrough`): a pure function of a question and the records, so it is tested and measured
/// without sockets.
struct ClusterZone: Sendable {
    /// Lowercased labels of the zone, e.g. ["cluster", "local"].
    let zoneLabels: [String]
    let zone: DNSName
    /// The service whose cluster IPs name this server (NS answers, `ns.dns.ZONE`).
    let nameServerService = ServiceKey(namespace: "kube-system", name: "kube-dns")

    static let ttl: UInt32 = 5
    /// CoreDNS gives the schema version record 8 hours.
    static let versionTTL: UInt32 = 28800
    /// The version of the DNS specification served (its section 2.1).
    static let schemaVersion = "1.1.0"
    /// CNAMEs followed inside the zone before giving up, as CoreDNS.
    static let maxCNAMEDepth = 8

    init?(domain: String) {
        guard let zone = DNSName(domain.lowercased()), zone != .root else { return nil }
        self.zone = zone
        zoneLabels = zone.lowercasedLabels
    }

    /// A name outside the zone whose records an answer wants appended: an ExternalName's target,
    /// which only the upstream resolvers know.
    struct Chase: Hashable, Sendable {
        var name: DNSName
        var type: RRType
    }

    enum Answer: Sendable {
        /// Not this server's to answer: forward it.
        case notAuthoritative
        case response(DNSMessage, chase: Chase?)
    }

    func answer(_ query: DNSMessage, records: ClusterRecords) -> Answer {
        guard let question = query.questions.first else { return .notAuthoritative }
        let labels = question.name.lowercasedLabels
        if labels.count >= zoneLabels.count, labels.suffix(zoneLabels.count).elementsEqual(zoneLabels) {
            var reply = DNSMessage.reply(to: query)
            reply.authoritative = true
            let zoneOwner = question.name.suffix(labels: zoneLabels.count)
            guard question.qclass == DNSClass.internet || question.qclass == DNSClass.any else {
                reply.rcode = RCode.refused
                return .response(reply, chase: nil)
            }
            switch lookup(question.name, labels: Array(labels.dropLast(zoneLabels.count)), type: question.type,
                          zoneOwner: zoneOwner, records: records, depth: 0) {
            case .refused:
                reply.rcode = RCode.refused
                return .response(reply, chase: nil)
            case .nameError:
                // CoreDNS says SERVFAIL until its informers have synced: the name may exist.
                reply.rcode = records.synced ? RCode.nameError : RCode.serverFailure
                reply.authority = [soa(zoneOwner, records: records)]
                return .response(reply, chase: nil)
            case .found(let answers, let additional, let chase):
                reply.answers = answers
                reply.additional = additional
                if answers.isEmpty { reply.authority = [soa(zoneOwner, records: records)] }
                return .response(reply, chase: chase)
            }
        }
        if question.type == .ptr, let reply = reverse(query, labels: labels, records: records) {
            return .response(reply, chase: nil)
        }
        return .notAuthoritative
    }

    // MARK: Names in the zone

    /// What a name in the zone is; nil when it does not exist.
    enum Node {
        case apex
        /// A name that exists only because names exist below it: `svc.ZONE`, `NS.svc.ZONE`, ...
        case emptyNonTerminal
        case nameServer
        case schemaVersion
        /// `SVC.NS.svc.ZONE`, or `_PORT._PROTO.SVC.NS.svc.ZONE` ("" port or protocol matches any).
        case service(ServiceRecords, port: String, proto: String)
        /// `HOST.SVC.NS.svc.ZONE`.
        case endpoint(ServiceRecords, host: String)
        /// `1-2-3-4.NS.pod.ZONE`.
        case pod(IPv4Address)
    }

    /// `labels` are the name's lowercased labels left of the zone, leftmost first.
    func node(_ labels: [String], records: ClusterRecords) -> Node? {
        guard let last = labels.last else { return .apex }
        switch labels {
        case ["dns-version"]: return .schemaVersion
        case ["ns", "dns"]: return .nameServer
        case ["dns"]: return .emptyNonTerminal
        default: break
        }
        guard last == "svc" || last == "pod" else { return nil }
        if labels.count == 1 { return .emptyNonTerminal }
        let namespace = labels[labels.count - 2]
        guard records.namespaceExists(namespace) else { return nil }
        if labels.count == 2 { return .emptyNonTerminal }
        if last == "pod" {
            // pods insecure: any well-formed dashed IPv4 address answers, unverified.
            guard labels.count == 3, let ip = IPv4Address(labels[0], separator: UInt8(ascii: "-")) else { return nil }
            return .pod(ip)
        }
        guard let service = records.service(namespace: namespace, name: labels[labels.count - 3]) else { return nil }
        switch labels.count {
        case 3: return .service(service, port: "", proto: "")
        case 4: return .endpoint(service, host: labels[0])
        case 5: return .service(service, port: Self.stripUnderscore(labels[0]), proto: Self.stripUnderscore(labels[1]))
        default: return nil
        }
    }

    static func stripUnderscore(_ label: String) -> String {
        label.hasPrefix("_") ? String(label.dropFirst()) : label
    }

    /// One address and port a service or endpoint name stands for (CoreDNS's msg.Service).
    struct Target {
        var ip: IPv4Address
        var port: Int32
        /// The endpoint's host label; nil for a cluster IP, named by the service itself.
        var host: String?
    }

    /// The targets of a service or endpoint name, and whether the name exists.
    func targets(_ node: Node) -> (exists: Bool, targets: [Target]) {
        switch node {
        case .service(let records, let port, let proto):
            guard let service = records.service else { return (false, []) }
            func matches(_ p: PortInfo) -> Bool { (port.isEmpty || port == p.name) && (proto.isEmpty || proto == p.proto) }
            switch service.kind {
            case .externalName:
                return (port.isEmpty && proto.isEmpty, [])
            case .headless:
                var targets: [Target] = []
                for endpoint in records.endpoints {
                    for p in endpoint.ports where matches(p) { targets.append(Target(ip: endpoint.ip, port: p.port, host: endpoint.host)) }
                }
                return (!targets.isEmpty, targets)
            case .clusterIP(let ips):
                let ports = service.ports.filter(matches)
                return (!ports.isEmpty, ports.flatMap { p in ips.map { Target(ip: $0, port: p.port, host: nil) } })
            }
        case .endpoint(let records, let host):
            if case .externalName = records.service?.kind { return (false, []) }
            var targets: [Target] = []
            for i in records.endpointsByHost[host] ?? [] {
                let endpoint = records.endpoints[i]
                for p in endpoint.ports { targets.append(Target(ip: endpoint.ip, port: p.port, host: endpoint.host)) }
            }
            return (!targets.isEmpty, targets)
        default:
            return (true, [])
        }
    }

    enum Lookup {
        case nameError
        case refused
        case found(answers: [DNSRecord], additional: [DNSRecord], chase: Chase?)
    }

    func lookup(_ name: DNSName, labels: [String], type: RRType, zoneOwner: DNSName, records: ClusterRecords, depth: Int) -> Lookup {
        guard let node = node(labels, records: records) else { return .nameError }
        let (exists, targets) = targets(node)
        guard exists else { return .nameError }
        let none = Lookup.found(answers: [], additional: [], chase: nil)

        if case .service(let service, _, _) = node, case .externalName(let target) = service.service?.kind {
            switch type {
            case .a, .aaaa: return externalName(name, target: target, type: type, records: records, depth: depth)
            case .cname:
                guard let targetName = DNSName(target) else { return none }
                return .found(answers: [DNSRecord(name: name, type: .cname, ttl: Self.ttl, data: .name(targetName))], additional: [], chase: nil)
            default: return none
            }
        }

        switch type {
        case .a:
            switch node {
            case .pod(let ip):
                return .found(answers: [DNSRecord(name: name, type: .a, ttl: Self.ttl, data: .a(ip))], additional: [], chase: nil)
            case .nameServer:
                return .found(answers: nameServerIPs(records).map { DNSRecord(name: name, type: .a, ttl: Self.ttl, data: .a($0)) },
                              additional: [], chase: nil)
            default:
                var seen = Set<IPv4Address>()
                let answers = targets.filter { seen.insert($0.ip).inserted }.map {
                    DNSRecord(name: name, type: .a, ttl: Self.ttl, data: .a($0.ip))
                }
                return .found(answers: answers, additional: [], chase: nil)
            }
        case .srv:
            return srv(name, node: node, targets: targets, zoneOwner: zoneOwner)
        case .txt:
            guard case .schemaVersion = node else { return none }
            return .found(answers: [DNSRecord(name: name, type: .txt, ttl: Self.versionTTL, data: .txt([Array(Self.schemaVersion.utf8)]))],
                          additional: [], chase: nil)
        case .soa:
            guard case .apex = node else { return none }
            return .found(answers: [soa(zoneOwner, records: records)], additional: [], chase: nil)
        case .ns:
            guard case .apex = node else { return none }
            return nameServers(name, zoneOwner: zoneOwner, records: records)
        case .axfr, .ixfr:
            return .refused
        default:
            // AAAA (IPv4-only cluster), PTR on forward names and the rest: the name exists, the
            // type does not: NODATA.
            return none
        }
    }

    /// An ExternalName service: a CNAME to its target; inside the zone followed here, outside it
    /// left to the caller to chase upstream.
    func externalName(_ name: DNSName, target: String, type: RRType, records: ClusterRecords, depth: Int) -> Lookup {
        let none = Lookup.found(answers: [], additional: [], chase: nil)
        guard let targetName = DNSName(target), !targetName.equalsIgnoringCase(name) else { return none }
        let cname = DNSRecord(name: name, type: .cname, ttl: Self.ttl, data: .name(targetName))
        let labels = targetName.lowercasedLabels
        guard labels.count >= zoneLabels.count, labels.suffix(zoneLabels.count).elementsEqual(zoneLabels) else {
            return .found(answers: [cname], additional: [], chase: Chase(name: targetName, type: type))
        }
        guard depth < Self.maxCNAMEDepth else { return none }
        let inner = lookup(targetName, labels: Array(labels.dropLast(zoneLabels.count)), type: type,
                           zoneOwner: targetName.suffix(labels: zoneLabels.count), records: records, depth: depth + 1)
        guard case .found(let answers, _, let chase) = inner, !answers.isEmpty else { return none }
        return .found(answers: [cname] + answers, additional: [], chase: chase)
    }

    /// SRV as CoreDNS writes it: priority 0, the weight split evenly over the targets, each
    /// target named (a cluster IP by its service, an endpoint by its host label) with its
    /// address in the additional section.
    func srv(_ name: DNSName, node: Node, targets: [Target], zoneOwner: DNSName) -> Lookup {
        let service: ServiceKey
        switch node {
        case .service(let records, _, _), .endpoint(let records, _): service = records.key
        default: return .found(answers: [], additional: [], chase: nil)
        }
        let weight = UInt16(max(1, 100 / max(targets.count, 1)))
        var answers: [DNSRecord] = [], additional: [DNSRecord] = []
        struct Seen: Hashable { var host: String?; var port: Int32; var ip: IPv4Address? }
        var seen = Set<Seen>()
        for target in targets where target.port >= 0 {
            guard let relative = DNSName(labels: (target.host.map { [$0] } ?? []) + [service.name, service.namespace, "svc"]),
                  let targetName = relative.appending(zoneOwner) else { continue }
            if seen.insert(Seen(host: target.host, port: target.port, ip: nil)).inserted {
                answers.append(DNSRecord(name: name, type: .srv, ttl: Self.ttl,
                                         data: .srv(priority: 0, weight: weight, port: UInt16(clamping: target.port), target: targetName)))
            }
            if seen.insert(Seen(host: target.host, port: -1, ip: target.ip)).inserted {
                additional.append(DNSRecord(name: targetName, type: .a, ttl: Self.ttl, data: .a(target.ip)))
            }
        }
        return .found(answers: answers, additional: additional, chase: nil)
    }

    func nameServerIPs(_ records: ClusterRecords) -> [IPv4Address] {
        guard case .clusterIP(let ips) = records.service(namespace: nameServerService.namespace, name: nameServerService.name)?.service?.kind
        else { return [] }
        return ips
    }

    /// NS at the apex: this server by its service's name with the service's addresses as glue,
    /// or `ns.dns.ZONE` when that service is not there (CoreDNS's nsAddrs).
    func nameServers(_ name: DNSName, zoneOwner: DNSName, records: ClusterRecords) -> Lookup {
        let ips = nameServerIPs(records)
        let relative = ips.isEmpty ? DNSName(labels: ["ns", "dns"])
            : DNSName(labels: [nameServerService.name, nameServerService.namespace, "svc"])
        guard let server = relative?.appending(zoneOwner) else { return .found(answers: [], additional: [], chase: nil) }
        return .found(answers: [DNSRecord(name: name, type: .ns, ttl: Self.ttl, data: .name(server))],
                      additional: ips.map { DNSRecord(name: server, type: .a, ttl: Self.ttl, data: .a($0)) }, chase: nil)
    }

    /// The zone's SOA, with CoreDNS's fields: `ns.dns.ZONE. hostmaster.ZONE. SERIAL 7200 1800 86400 5`,
    /// TTL min(ttl, 300); the zone written in the question's case.
    func soa(_ zoneOwner: DNSName, records: ClusterRecords) -> DNSRecord {
        let mname = DNSName(labels: ["ns", "dns"])?.appending(zoneOwner) ?? zoneOwner
        let rname = DNSName(labels: ["hostmaster"])?.appending(zoneOwner) ?? zoneOwner
        return DNSRecord(name: zoneOwner, type: .soa, ttl: min(Self.ttl, 300),
                         data: .soa(SOA(mname: mname, rname: rname, serial: records.serial, refresh: 7200, retry: 1800,
                                        expire: 86400, minimum: Self.ttl)))
    }

    // MARK: Reverse names

    /// PTR for an address in `in-addr.arpa`: a cluster IP names its service, an endpoint address
    /// its endpoint. Anything else is not ours (CoreDNS's fallthrough for the reverse zones).
    func reverse(_ query: DNSMessage, labels: [String], records: ClusterRecords) -> DNSMessage? {
        guard labels.count == 6, labels[4] == "in-addr", labels[5] == "arpa",
              let ip = IPv4Address(labels[0..<4].reversed().joined(separator: ".")),
              let question = query.questions.first else { return nil }
        var targets: [DNSName] = []
        if let key = records.clusterIPs[ip]?.first {
            targets = [DNSName(labels: [key.name, key.namespace, "svc"] + zoneLabels)].compactMap { $0 }
        } else if let endpoints = records.endpointIPs[ip] {
            targets = endpoints.compactMap { DNSName(labels: [$0.host, $0.service.name, $0.service.namespace, "svc"] + zoneLabels) }
        }
        guard !targets.isEmpty else { return nil }
        var reply = DNSMessage.reply(to: query)
        reply.authoritative = true
        reply.answers = targets.map { DNSRecord(name: question.name, type: .ptr, ttl: Self.ttl, data: .name($0)) }
        return reply
    }
}
