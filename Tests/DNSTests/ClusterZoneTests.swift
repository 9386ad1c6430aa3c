import APIMachinery
import Testing
@testable import DNS

/// Objects as the API server holds them, reduced to what DNS reads.
enum Objects {
    static func service(_ namespace: String, _ name: String, clusterIP: String = "10.96.0.20",
                        ports: [(String, Int64, String)] = [("http", 80, "TCP")], publishNotReady: Bool = false) -> JSON {
        var spec: JSON = ["type": "ClusterIP", "clusterIP": .string(clusterIP), "clusterIPs": [.string(clusterIP)],
                          "ports": .array(ports.map { ["name": .string($0.0), "port": .int($0.1), "protocol": .string($0.2)] })]
        if publishNotReady { spec["publishNotReadyAddresses"] = true }
        return ["metadata": ["namespace": .string(namespace), "name": .string(name)], "spec": spec]
    }

    static func externalName(_ namespace: String, _ name: String, target: String) -> JSON {
        ["metadata": ["namespace": .string(namespace), "name": .string(name)],
         "spec": ["type": "ExternalName", "externalName": .string(target)]]
    }

    static func slice(_ namespace: String, _ name: String, service: String,
                      endpoints: [(ip: String, hostname: String?, ready: Bool?)],
                      ports: [(String, Int64, String)] = [("http", 8080, "TCP")]) -> JSON {
        ["metadata": ["namespace": .string(namespace), "name": .string(name), "labels": ["kubernetes.io/service-name": .string(service)]],
         "addressType": "IPv4",
         "endpoints": .array(endpoints.map { e in
             var endpoint: JSON = ["addresses": [.string(e.ip)], "targetRef": ["kind": "Pod", "name": "p"]]
             if let hostname = e.hostname { endpoint["hostname"] = .string(hostname) }
             if let ready = e.ready { endpoint["conditions"] = ["ready": .bool(ready)] }
             return endpoint
         }),
         "ports": .array(ports.map { ["name": .string($0.0), "port": .int($0.1), "protocol": .string($0.2)] })]
    }

    static func namespace(_ name: String) -> JSON { ["metadata": ["name": .string(name)]] }
}

/// A cluster with a few of each kind of service, and helpers to ask it.
struct Cluster {
    let store = ClusterRecordStore(records: ClusterRecords(serial: 1_700_000_000))
    let responder = QueryResponder(zone: ClusterZone(domain: "cluster.local")!)

    init(synced: Bool = true) {
        store.setNamespace(Objects.namespace("default"), exists: true)
        store.setNamespace(Objects.namespace("kube-system"), exists: true)
        store.setNamespace(Objects.namespace("empty"), exists: true)
        store.upsertService(Objects.service("default", "web", ports: [("http", 80, "TCP"), ("dns", 53, "UDP")]))
        store.upsertSlice(Objects.slice("default", "web-abc", service: "web", endpoints: [("10.244.0.7", nil, true)]))
        store.upsertService(Objects.service("kube-system", "kube-dns", clusterIP: "10.96.0.10", ports: [("dns", 53, "UDP"), ("dns-tcp", 53, "TCP")]))
        // A StatefulSet's governing service: headless, pods with hostnames; one not ready.
        store.upsertService(Objects.service("default", "nginx", clusterIP: "None", ports: [("web", 80, "TCP")]))
        store.upsertSlice(Objects.slice("default", "nginx-1", service: "nginx", endpoints: [
            ("10.244.0.5", "web-0", true), ("10.244.0.6", "web-1", nil), ("10.244.0.9", "web-2", false), ("10.244.0.8", nil, true),
        ], ports: [("web", 8080, "TCP")]))
        store.upsertService(Objects.externalName("default", "search", target: "www.example.com."))
        store.upsertService(Objects.externalName("default", "alias", target: "web.default.svc.cluster.local"))
        if synced { store.markSynced() }
    }

    func ask(_ name: String, _ type: RRType, edns: EDNS? = nil, transport: QueryResponder.Transport = .udp) throws -> DNSMessage {
        let outcome = responder.respond(to: query(name, type, edns: edns), transport: transport, records: store.snapshot)
        guard case .reply(let bytes, _) = outcome else {
            Issue.record("no direct reply for \(name) \(type): \(outcome)")
            throw Unanswered()
        }
        return try MessageDecoder.decode(bytes)
    }

    func outcome(_ name: String, _ type: RRType) -> QueryResponder.Outcome {
        responder.respond(to: query(name, type), transport: .udp, records: store.snapshot)
    }

    func query(_ name: String, _ type: RRType, edns: EDNS? = nil) -> [UInt8] {
        var query = DNSMessage(id: 0x4242, recursionDesired: true)
        query.questions = [DNSQuestion(name: DNSName(name)!, type: type)]
        query.edns = edns
        return MessageEncoder.encodeWhole(query)
    }

    struct Unanswered: Error {}
}

func addresses(_ records: [DNSRecord]) -> [String] {
    records.compactMap { if case .a(let ip) = $0.data { ip.description } else { nil } }
}

@Suite struct ClusterZoneTests {
    let cluster = Cluster()

    @Test func clusterIPService() throws {
        let reply = try cluster.ask("web.default.svc.cluster.local", .a)
        #expect(reply.id == 0x4242 && reply.isResponse && reply.authoritative && reply.recursionDesired)
        #expect(reply.rcode == RCode.noError)
        #expect(reply.answers == [DNSRecord(name: DNSName("web.default.svc.cluster.local")!, type: .a, ttl: 5, data: .a(IPv4Address(10, 96, 0, 20)))])
        #expect(reply.authority.isEmpty && reply.edns == nil)
    }

    @Test func echoesTheQuestionsCase() throws {
        let reply = try cluster.ask("WEB.Default.SVC.Cluster.LOCAL", .a)
        #expect(reply.questions[0].name.description == "WEB.Default.SVC.Cluster.LOCAL.")
        #expect(reply.answers.map(\.name.description) == ["WEB.Default.SVC.Cluster.LOCAL."])
        let nodata = try cluster.ask("WEB.Default.SVC.Cluster.LOCAL", .aaaa)
        #expect(nodata.authority.map(\.name.description) == ["Cluster.LOCAL."])
    }

    @Test func nodataCarriesCoreDNSsSOA() throws {
        let reply = try cluster.ask("web.default.svc.cluster.local", .aaaa)
        #expect(reply.rcode == RCode.noError && reply.answers.isEmpty)
        let soa = try #require(reply.authority.first)
        #expect(soa.name.description == "cluster.local." && soa.type == .soa && soa.ttl == 5)
        #expect(soa.data == .soa(SOA(mname: DNSName("ns.dns.cluster.local")!, rname: DNSName("hostmaster.cluster.local")!,
                                     serial: cluster.store.snapshot.serial, refresh: 7200, retry: 1800, expire: 86400, minimum: 5)))
    }

    @Test func nameErrors() throws {
        for name in ["nothere.default.svc.cluster.local", "web.nonamespace.svc.cluster.local", "nonamespace.svc.cluster.local",
                     "foo.cluster.local", "a.b.c.web.default.svc.cluster.local", "x.web.default.svc.cluster.local",
                     "web.default.notsvc.cluster.local", "web-9.nginx.default.svc.cluster.local"] {
            let reply = try cluster.ask(name, .a)
            #expect(reply.rcode == RCode.nameError, "\(name)")
            #expect(reply.authoritative && reply.answers.isEmpty)
            #expect(reply.authority.first?.type == .soa, "\(name)")
        }
        // Any type: the name is what does not exist.
        #expect(try cluster.ask("nothere.default.svc.cluster.local", .aaaa).rcode == RCode.nameError)
        #expect(try cluster.ask("nothere.default.svc.cluster.local", .txt).rcode == RCode.nameError)
    }

    @Test func namesThatExistOnlyAsPrefixesAreNodata() throws {
        for name in ["cluster.local", "svc.cluster.local", "pod.cluster.local", "default.svc.cluster.local",
                     "empty.svc.cluster.local", "default.pod.cluster.local", "dns.cluster.local"] {
            for type in [RRType.a, .aaaa, .txt] {
                let reply = try cluster.ask(name, type)
                #expect(reply.rcode == RCode.noError && reply.answers.isEmpty, "\(name) \(type)")
                #expect(reply.authority.first?.type == .soa)
            }
        }
    }

    @Test func schemaVersion() throws {
        let reply = try cluster.ask("dns-version.cluster.local", .txt)
        #expect(reply.answers == [DNSRecord(name: DNSName("dns-version.cluster.local")!, type: .txt, ttl: 28800, data: .txt([Array("1.1.0".utf8)]))])
        #expect(try cluster.ask("dns-version.cluster.local", .a).answers.isEmpty)
    }

    @Test func headlessServiceAnswersReadyEndpoints() throws {
        let reply = try cluster.ask("nginx.default.svc.cluster.local", .a)
        // web-2 is not ready; an endpoint without conditions counts as ready.
        #expect(Set(addresses(reply.answers)) == ["10.244.0.5", "10.244.0.6", "10.244.0.8"])
        #expect(reply.answers.allSatisfy { $0.ttl == 5 && $0.name.description == "nginx.default.svc.cluster.local." })
    }

    @Test func publishNotReadyAddressesAnswersAll() throws {
        let cluster = Cluster()
        cluster.store.upsertService(Objects.service("default", "nginx", clusterIP: "None", ports: [("web", 80, "TCP")], publishNotReady: true))
        #expect(Set(addresses(try cluster.ask("nginx.default.svc.cluster.local", .a).answers)) == ["10.244.0.5", "10.244.0.6", "10.244.0.8", "10.244.0.9"])
        #expect(addresses(try cluster.ask("web-2.nginx.default.svc.cluster.local", .a).answers) == ["10.244.0.9"])
    }

    @Test func endpointHostnames() throws {
        #expect(addresses(try cluster.ask("web-0.nginx.default.svc.cluster.local", .a).answers) == ["10.244.0.5"])
        #expect(addresses(try cluster.ask("Web-1.Nginx.default.svc.cluster.local", .a).answers) == ["10.244.0.6"])
        // Without a hostname an endpoint is named by its dashed address, under any service.
        #expect(addresses(try cluster.ask("10-244-0-8.nginx.default.svc.cluster.local", .a).answers) == ["10.244.0.8"])
        #expect(addresses(try cluster.ask("10-244-0-7.web.default.svc.cluster.local", .a).answers) == ["10.244.0.7"])
        #expect(try cluster.ask("web-0.nginx.default.svc.cluster.local", .aaaa).rcode == RCode.noError)
    }

    @Test func srvForAClusterIPService() throws {
        let reply = try cluster.ask("_http._tcp.web.default.svc.cluster.local", .srv)
        let target = DNSName("web.default.svc.cluster.local")!
        #expect(reply.answers == [DNSRecord(name: DNSName("_http._tcp.web.default.svc.cluster.local")!, type: .srv, ttl: 5,
                                            data: .srv(priority: 0, weight: 100, port: 80, target: target))])
        #expect(reply.additional == [DNSRecord(name: target, type: .a, ttl: 5, data: .a(IPv4Address(10, 96, 0, 20)))])
        // Protocols match whatever their case; a port the service lacks is no name.
        #expect(try cluster.ask("_dns._UDP.web.default.svc.cluster.local", .srv).answers.count == 1)
        #expect(try cluster.ask("_dns._tcp.web.default.svc.cluster.local", .srv).rcode == RCode.nameError)
        #expect(try cluster.ask("_https._tcp.web.default.svc.cluster.local", .srv).rcode == RCode.nameError)
        // The port name also works for A, as in CoreDNS.
        #expect(addresses(try cluster.ask("_http._tcp.web.default.svc.cluster.local", .a).answers) == ["10.96.0.20"])
    }

    @Test func srvForTheServiceNameListsEveryPort() throws {
        let reply = try cluster.ask("web.default.svc.cluster.local", .srv)
        let srv = reply.answers.compactMap { if case .srv(let priority, let weight, let port, let target) = $0.data { (priority, weight, port, target.description) } else { nil } }
        #expect(srv.map(\.2).sorted() == [53, 80])
        #expect(srv.allSatisfy { $0.0 == 0 && $0.1 == 50 && $0.3 == "web.default.svc.cluster.local." })
        #expect(addresses(reply.additional) == ["10.96.0.20"])
    }

    @Test func srvForAHeadlessService() throws {
        let reply = try cluster.ask("_web._tcp.nginx.default.svc.cluster.local", .srv)
        let srv = reply.answers.compactMap { if case .srv(_, let weight, let port, let target) = $0.data { (weight, port, target.description) } else { nil } }
        #expect(Set(srv.map(\.2)) == ["web-0.nginx.default.svc.cluster.local.", "web-1.nginx.default.svc.cluster.local.",
                                      "10-244-0-8.nginx.default.svc.cluster.local."])
        #expect(srv.allSatisfy { $0.0 == 33 && $0.1 == 8080 })
        let glue = Dictionary(uniqueKeysWithValues: reply.additional.map { ($0.name.description, addresses([$0])[0]) })
        #expect(glue == ["web-0.nginx.default.svc.cluster.local.": "10.244.0.5", "web-1.nginx.default.svc.cluster.local.": "10.244.0.6",
                         "10-244-0-8.nginx.default.svc.cluster.local.": "10.244.0.8"])
        // An endpoint's own name answers SRV too.
        #expect(try cluster.ask("web-0.nginx.default.svc.cluster.local", .srv).answers.count == 1)
    }

    @Test func externalNameOutsideTheZone() throws {
        let outcome = cluster.outcome("search.default.svc.cluster.local", .a)
        guard case .chase(let reply, let chase, _, _) = outcome else { Issue.record("\(outcome)"); return }
        #expect(reply.answers == [DNSRecord(name: DNSName("search.default.svc.cluster.local")!, type: .cname, ttl: 5,
                                            data: .name(DNSName("www.example.com")!))])
        #expect(chase == ClusterZone.Chase(name: DNSName("www.example.com")!, type: .a))
        // Without upstream records the CNAME alone goes back.
        guard case .reply(let bytes, _) = cluster.responder.finishChase(reply: reply, upstream: nil, query: reply, limit: 512) else { return }
        #expect(try MessageDecoder.decode(bytes).answers.count == 1)

        #expect(try cluster.ask("search.default.svc.cluster.local", .cname).answers.map(\.type) == [.cname])
        let srv = try cluster.ask("search.default.svc.cluster.local", .srv)
        #expect(srv.rcode == RCode.noError && srv.answers.isEmpty)
        #expect(try cluster.ask("_http._tcp.search.default.svc.cluster.local", .srv).rcode == RCode.nameError)
    }

    @Test func externalNameInsideTheZoneIsFollowed() throws {
        let reply = try cluster.ask("alias.default.svc.cluster.local", .a)
        #expect(reply.answers.map(\.type) == [.cname, .a])
        #expect(reply.answers[1].name.description == "web.default.svc.cluster.local.")
        #expect(addresses(reply.answers) == ["10.96.0.20"])
    }

    @Test func externalNameLoopsEnd() throws {
        let cluster = Cluster()
        cluster.store.upsertService(Objects.externalName("default", "a", target: "b.default.svc.cluster.local"))
        cluster.store.upsertService(Objects.externalName("default", "b", target: "a.default.svc.cluster.local"))
        cluster.store.upsertService(Objects.externalName("default", "me", target: "me.default.svc.cluster.local"))
        #expect(try cluster.ask("a.default.svc.cluster.local", .a).answers.isEmpty)
        #expect(try cluster.ask("me.default.svc.cluster.local", .a).answers.isEmpty)
    }

    @Test func podRecords() throws {
        let reply = try cluster.ask("10-244-1-17.default.pod.cluster.local", .a)
        #expect(reply.answers == [DNSRecord(name: DNSName("10-244-1-17.default.pod.cluster.local")!, type: .a, ttl: 5,
                                            data: .a(IPv4Address(10, 244, 1, 17)))])
        #expect(try cluster.ask("10-244-1-17.empty.pod.cluster.local", .a).answers.count == 1)
        #expect(try cluster.ask("10-244-1-17.default.pod.cluster.local", .aaaa).rcode == RCode.noError)
        for bad in ["10-244-1.default.pod.cluster.local", "10-244-1-256.default.pod.cluster.local", "10--244-1-1.default.pod.cluster.local",
                    "10-244-1-17.nonamespace.pod.cluster.local", "x.10-244-1-17.default.pod.cluster.local", "web.default.pod.cluster.local"] {
            #expect(try cluster.ask(bad, .a).rcode == RCode.nameError, "\(bad)")
        }
    }

    @Test func reverseLookups() throws {
        let service = try cluster.ask("20.0.96.10.in-addr.arpa", .ptr)
        #expect(service.authoritative)
        #expect(service.answers == [DNSRecord(name: DNSName("20.0.96.10.in-addr.arpa")!, type: .ptr, ttl: 5,
                                              data: .name(DNSName("web.default.svc.cluster.local")!))])
        #expect(try cluster.ask("5.0.244.10.IN-ADDR.ARPA", .ptr).answers.map(\.data) == [.name(DNSName("web-0.nginx.default.svc.cluster.local")!)])
        #expect(try cluster.ask("8.0.244.10.in-addr.arpa", .ptr).answers.map(\.data) == [.name(DNSName("10-244-0-8.nginx.default.svc.cluster.local")!)])
        // Addresses the cluster does not know, and other types, fall through to the upstreams.
        guard case .forward = cluster.outcome("9.9.9.9.in-addr.arpa", .ptr) else { Issue.record("not forwarded"); return }
        guard case .forward = cluster.outcome("20.0.96.10.in-addr.arpa", .a) else { Issue.record("not forwarded"); return }
        guard case .forward = cluster.outcome("96.10.in-addr.arpa", .ptr) else { Issue.record("not forwarded"); return }
    }

    @Test func namesOutsideTheZoneAreForwarded() {
        for name in ["example.com", "local", "cluster.local.example.com", "svc.local"] {
            guard case .forward(let query, let limit) = cluster.outcome(name, .a) else { Issue.record("\(name) not forwarded"); continue }
            #expect(query.questions[0].name.description == name + ".")
            #expect(limit == 512)
        }
    }

    @Test func nameServerRecords() throws {
        let ns = try cluster.ask("cluster.local", .ns)
        #expect(ns.answers.map(\.data) == [.name(DNSName("kube-dns.kube-system.svc.cluster.local")!)])
        #expect(addresses(ns.additional) == ["10.96.0.10"])
        #expect(addresses(try cluster.ask("ns.dns.cluster.local", .a).answers) == ["10.96.0.10"])
        let soa = try cluster.ask("cluster.local", .soa)
        #expect(soa.answers.map(\.type) == [.soa] && soa.authority.isEmpty)
        #expect(try cluster.ask("cluster.local", .axfr).rcode == RCode.refused)
    }

    @Test func serverFailureUntilSynced() throws {
        let cluster = Cluster(synced: false)
        #expect(try cluster.ask("nothere.default.svc.cluster.local", .a).rcode == RCode.serverFailure)
        #expect(try cluster.ask("web.default.svc.cluster.local", .a).answers.count == 1)
    }

    @Test func truncatesLargeUDPAnswers() throws {
        let cluster = Cluster()
        let many = (0..<100).map { (ip: "10.244.3.\($0)", hostname: String?.none, ready: Bool?.some(true)) }
        cluster.store.upsertService(Objects.service("default", "big", clusterIP: "None"))
        cluster.store.upsertSlice(Objects.slice("default", "big-1", service: "big", endpoints: many))

        let udp = cluster.responder.respond(to: cluster.query("big.default.svc.cluster.local", .a), transport: .udp, records: cluster.store.snapshot)
        guard case .reply(let bytes, _) = udp else { Issue.record("\(udp)"); return }
        #expect(bytes.count <= 512)
        let cut = try MessageDecoder.decode(bytes)
        #expect(cut.truncated && cut.answers.isEmpty && cut.questions.count == 1)

        // A client that says it takes 4096 bytes gets them all, with our OPT back.
        let large = try cluster.ask("big.default.svc.cluster.local", .a, edns: EDNS(udpPayloadSize: 4096, dnssecOK: true))
        #expect(!large.truncated && large.answers.count == 100)
        #expect(large.edns == EDNS(udpPayloadSize: 1232, dnssecOK: true))

        let tcp = try cluster.ask("big.default.svc.cluster.local", .a, transport: .tcp)
        #expect(!tcp.truncated && tcp.answers.count == 100 && tcp.edns == nil)
    }

    @Test func ednsVersionsBeyondZeroAreRefused() throws {
        let reply = try cluster.ask("web.default.svc.cluster.local", .a, edns: EDNS(udpPayloadSize: 1232, version: 1))
        #expect(reply.rcode == RCode.badVersion && reply.edns != nil)
    }

    @Test func malformedQueries() throws {
        let records = cluster.store.snapshot
        func respond(_ bytes: [UInt8]) -> QueryResponder.Outcome { cluster.responder.respond(to: bytes, transport: .udp, records: records) }
        // Too short, or a response: dropped.
        guard case .drop = respond([1, 2, 3]) else { Issue.record("short packet answered"); return }
        var response = cluster.query("web.default.svc.cluster.local", .a)
        response[2] |= 0x80
        guard case .drop = respond(response) else { Issue.record("response answered"); return }
        // Undecodable: FORMERR with the id.
        guard case .reply(let formerr, let rcode) = respond([0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1]) else {
            Issue.record("no FORMERR"); return
        }
        #expect(rcode == RCode.formatError)
        let decoded = try MessageDecoder.decode(formerr)
        #expect(decoded.id == 0x1234 && decoded.rcode == RCode.formatError && decoded.isResponse)
        // Two questions: FORMERR; a STATUS query: NOTIMP.
        var two = DNSMessage(id: 9)
        two.questions = [DNSQuestion(name: DNSName("a.b")!, type: .a), DNSQuestion(name: DNSName("c.d")!, type: .a)]
        guard case .reply(_, RCode.formatError) = respond(MessageEncoder.encodeWhole(two)) else { Issue.record("two questions"); return }
        var status = DNSMessage(id: 9, opcode: 2)
        status.questions = [DNSQuestion(name: DNSName("a.b")!, type: .a)]
        guard case .reply(_, RCode.notImplemented) = respond(MessageEncoder.encodeWhole(status)) else { Issue.record("status"); return }
        // Random garbage never crashes.
        for _ in 0..<2000 {
            _ = respond((0..<Int.random(in: 0..<100)).map { _ in UInt8.random(in: 0...255) })
        }
    }
}

@Suite struct ClusterRecordStoreTests {
    @Test func followsChanges() throws {
        let cluster = Cluster()
        let ip = IPv4Address(10, 96, 0, 20)
        #expect(cluster.store.snapshot.clusterIPs[ip] == [ServiceKey(namespace: "default", name: "web")])

        // A new cluster IP moves the reverse record.
        cluster.store.upsertService(Objects.service("default", "web", clusterIP: "10.96.0.21"))
        var records = cluster.store.snapshot
        #expect(records.clusterIPs[ip] == nil && records.clusterIPs[IPv4Address(10, 96, 0, 21)] != nil)

        // Endpoints follow their slice; a slice may change service.
        cluster.store.upsertSlice(Objects.slice("default", "web-abc", service: "nginx", endpoints: [("10.244.0.7", nil, true)]))
        records = cluster.store.snapshot
        #expect(records.service(namespace: "default", name: "web")?.endpoints.isEmpty == true)
        #expect(records.service(namespace: "default", name: "nginx")?.endpoints.count == 4)
        #expect(records.endpointIPs[IPv4Address(10, 244, 0, 7)] == [ReverseEndpoint(service: ServiceKey(namespace: "default", name: "nginx"), host: "10-244-0-7")])

        // Deleting the service leaves its slices' reverse names (as CoreDNS), but not the name.
        cluster.store.removeService(Objects.service("default", "nginx"))
        records = cluster.store.snapshot
        #expect(records.service(namespace: "default", name: "nginx") == nil)
        #expect(records.endpointIPs[IPv4Address(10, 244, 0, 5)] != nil)
        #expect(try cluster.ask("nginx.default.svc.cluster.local", .a).rcode == RCode.nameError)
        cluster.store.removeSlice(Objects.slice("default", "nginx-1", service: "nginx", endpoints: []))
        cluster.store.removeSlice(Objects.slice("default", "web-abc", service: "nginx", endpoints: []))
        #expect(cluster.store.snapshot.endpointIPs.isEmpty)
    }

    @Test func namespacesExistByObjectOrService() throws {
        let cluster = Cluster()
        cluster.store.setNamespace(Objects.namespace("empty"), exists: false)
        #expect(try cluster.ask("empty.svc.cluster.local", .a).rcode == RCode.nameError)
        // A service whose namespace the informer has not shown yet still makes it exist.
        cluster.store.upsertService(Objects.service("late", "api"))
        #expect(try cluster.ask("late.svc.cluster.local", .a).rcode == RCode.noError)
        #expect(try cluster.ask("api.late.svc.cluster.local", .a).answers.count == 1)
        // A slice alone does not; the last service gone, the namespace is gone.
        cluster.store.upsertSlice(Objects.slice("late", "api-x", service: "api", endpoints: [("10.244.9.9", nil, true)]))
        cluster.store.upsertSlice(Objects.slice("late", "other-x", service: "other", endpoints: [("10.244.9.8", nil, true)]))
        cluster.store.upsertService(Objects.service("late", "api", clusterIP: "10.96.9.9"))
        #expect(cluster.store.snapshot.namespaces["late"]?.serviceObjects == 1)
        cluster.store.removeService(Objects.service("late", "api"))
        #expect(try cluster.ask("late.svc.cluster.local", .a).rcode == RCode.nameError)
        #expect(cluster.store.snapshot.namespaces["late"]?.serviceObjects == 0)
    }

    @Test func readsServiceShapes() throws {
        let dual: JSON = ["metadata": ["namespace": "default", "name": "dual"],
                          "spec": ["clusterIP": "10.96.0.30", "clusterIPs": ["10.96.0.30", "fd00::30"],
                                   "ports": [["port": 443]]]]
        let service = try #require(ServiceInfo(dual))
        #expect(service.kind == .clusterIP([IPv4Address(10, 96, 0, 30)]))
        #expect(service.ports == [PortInfo(name: "", proto: "tcp", port: 443)])
        let noPorts = try #require(SliceInfo(["metadata": ["namespace": "default", "name": "s", "labels": ["kubernetes.io/service-name": "x"]],
                                              "addressType": "IPv4", "endpoints": [["addresses": ["10.0.0.1"]]]]))
        #expect(noPorts.ports == [.none])
        let v6 = try #require(SliceInfo(["metadata": ["namespace": "default", "name": "s", "labels": ["kubernetes.io/service-name": "x"]],
                                         "addressType": "IPv6", "endpoints": [["addresses": ["fd00::1"]]]]))
        #expect(v6.endpoints.isEmpty)
        #expect(SliceInfo(["metadata": ["namespace": "default", "name": "orphan"]]) == nil)
    }
}
