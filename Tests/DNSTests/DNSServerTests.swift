import Testing
@testable import DNS

/// The server on real sockets (127.0.0.1 only): UDP and TCP on one port, forwarding, metrics.
@Suite struct DNSServerTests {
    func query(_ name: String, _ type: RRType = .a, id: UInt16 = 0x5151, edns: EDNS? = nil) -> [UInt8] {
        var query = DNSMessage(id: id, recursionDesired: true)
        query.questions = [question(name, type)]
        query.edns = edns
        return MessageEncoder.encodeWhole(query)
    }

    @Test func servesTheZoneOverUDPAndTCP() async throws {
        let cluster = Cluster()
        let many = (0..<60).map { (ip: "10.244.3.\($0)", hostname: String?.none, ready: Bool?.some(true)) }
        cluster.store.upsertService(Objects.service("default", "big", clusterIP: "None"))
        cluster.store.upsertSlice(Objects.slice("default", "big-1", service: "big", endpoints: many))
        let server = DNSServer(responder: cluster.responder, store: cluster.store, forwarder: nil, metrics: DNSMetrics())
        let port = try await server.start(host: "127.0.0.1", port: 0)
        defer { Task { await server.stop() } }

        let udp = try MessageDecoder.decode(try #require(await LoopbackClient.udp(query("web.default.svc.cluster.local"), port: port)))
        #expect(udp.id == 0x5151 && addresses(udp.answers) == ["10.96.0.20"])

        // Too big for UDP: TC, then the whole answer over TCP, pipelined with a second query.
        let cut = try MessageDecoder.decode(try #require(await LoopbackClient.udp(query("big.default.svc.cluster.local"), port: port)))
        #expect(cut.truncated && cut.answers.isEmpty)
        let replies = await LoopbackClient.tcp([query("big.default.svc.cluster.local", id: 1), query("nothere.default.svc.cluster.local", id: 2)], port: port)
        let decoded = try replies.map { try MessageDecoder.decode($0) }.sorted { $0.id < $1.id }
        #expect(decoded.map(\.id) == [1, 2])
        #expect(decoded.first?.answers.count == 60 && decoded.first?.truncated == false)
        #expect(decoded.last?.rcode == RCode.nameError)

        // No upstreams: outside names are SERVFAIL, not silence.
        let outside = try MessageDecoder.decode(try #require(await LoopbackClient.udp(query("example.com"), port: port)))
        #expect(outside.rcode == RCode.serverFailure && outside.id == 0x5151)
        await server.stop()
    }

    @Test func forwardsOutsideNamesKeepingTheClientsIDAndCase() async throws {
        let upstream = try FakeUpstream { query, _ in
            switch query.questions[0].name.lowercased().description {
            case "www.example.com.": FakeUpstream.addresses(query, [IPv4Address(192, 0, 2, 80)], ttl: 300)
            default: { var reply = DNSMessage.reply(to: query, rcode: RCode.nameError); reply.recursionAvailable = true; return reply }()
            }
        }
        defer { upstream.stop() }
        let cluster = Cluster()
        let forwarder = Forwarder(upstreams: [ClusterDNS.parseUpstream("127.0.0.1:\(upstream.port)")!])
        try await forwarder.start()
        let metrics = DNSMetrics()
        let server = DNSServer(responder: cluster.responder, store: cluster.store, forwarder: forwarder, metrics: metrics)
        let port = try await server.start(host: "127.0.0.1", port: 0)

        let first = try MessageDecoder.decode(try #require(await LoopbackClient.udp(query("WWW.example.com", id: 0xA1), port: port)))
        #expect(first.id == 0xA1 && first.rcode == RCode.noError && first.recursionAvailable)
        #expect(first.questions[0].name.description == "WWW.example.com.")
        #expect(first.answers.map(\.name.description) == ["WWW.example.com."])
        #expect(addresses(first.answers) == ["192.0.2.80"] && first.answers[0].ttl <= 300)
        // Again, over TCP with EDNS: from the cache, our OPT back.
        let again = try MessageDecoder.decode(try #require(await LoopbackClient.tcp([query("www.example.com", id: 0xA2, edns: EDNS(udpPayloadSize: 4096))], port: port).first))
        #expect(again.id == 0xA2 && addresses(again.answers) == ["192.0.2.80"] && again.edns?.udpPayloadSize == 1232)
        #expect(upstream.queries == ["udp WWW.example.com."])
        // Upstream's NXDOMAIN passes through as it is.
        let missing = try MessageDecoder.decode(try #require(await LoopbackClient.udp(query("missing.example.com", id: 0xA3), port: port)))
        #expect(missing.id == 0xA3 && missing.rcode == RCode.nameError)

        // An ExternalName pointing outside gets its target's records appended to the CNAME.
        let external = try MessageDecoder.decode(try #require(await LoopbackClient.udp(query("search.default.svc.cluster.local"), port: port)))
        #expect(external.answers.map(\.type) == [.cname, .a] && addresses(external.answers) == ["192.0.2.80"])
        #expect(external.authoritative)

        let exposition = metrics.exposition(cacheEntries: forwarder.cache.count)
        #expect(exposition.contains("coredns_cache_hits_total{server=\"dns://:53\",type=\"success\",zones=\".\",view=\"\"} 2"))
        await server.stop()
        await forwarder.stop()
    }

    @Test func metricsEndpoint() async throws {
        let cluster = Cluster()
        let metrics = DNSMetrics(server: "dns://127.0.0.1:53")
        let server = DNSServer(responder: cluster.responder, store: cluster.store, forwarder: nil, metrics: metrics)
        let port = try await server.start(host: "127.0.0.1", port: 0)
        let http = try await MetricsServer.bind(host: "127.0.0.1", port: 0, group: .singletonMultiThreadedEventLoopGroup) {
            metrics.exposition(cacheEntries: 0)
        }
        _ = await LoopbackClient.udp(query("web.default.svc.cluster.local"), port: port)
        _ = await LoopbackClient.udp(query("nothere.default.svc.cluster.local", .aaaa), port: port)
        _ = await LoopbackClient.tcp([query("web.default.svc.cluster.local", .srv)], port: port)

        let response = await LoopbackClient.httpGet("/metrics", port: try #require(http.localAddress?.port))
        #expect(response.hasPrefix("HTTP/1.1 200 OK"))
        #expect(response.contains("text/plain; version=0.0.4"))
        for line in ["coredns_dns_requests_total{server=\"dns://127.0.0.1:53\",zone=\".\",view=\"\",proto=\"udp\",family=\"1\",type=\"A\"} 1",
                     "coredns_dns_requests_total{server=\"dns://127.0.0.1:53\",zone=\".\",view=\"\",proto=\"udp\",family=\"1\",type=\"AAAA\"} 1",
                     "coredns_dns_requests_total{server=\"dns://127.0.0.1:53\",zone=\".\",view=\"\",proto=\"tcp\",family=\"1\",type=\"SRV\"} 1",
                     "coredns_dns_responses_total{server=\"dns://127.0.0.1:53\",zone=\".\",view=\"\",rcode=\"NOERROR\",plugin=\"\"} 2",
                     "coredns_dns_responses_total{server=\"dns://127.0.0.1:53\",zone=\".\",view=\"\",rcode=\"NXDOMAIN\",plugin=\"\"} 1",
                     "# TYPE coredns_cache_hits_total counter"] {
            #expect(response.contains(line), "\(line)")
        }
        #expect(await LoopbackClient.httpGet("/other", port: try #require(http.localAddress?.port)).hasPrefix("HTTP/1.1 404"))
        try await http.close()
        await server.stop()
    }
}
