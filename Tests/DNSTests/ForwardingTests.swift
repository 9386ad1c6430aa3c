import Foundation
import Testing
@testable import DNS

// Every socket here is on 127.0.0.1: no test sends a packet anywhere else.

func question(_ name: String, _ type: RRType = .a) -> DNSQuestion { DNSQuestion(name: DNSName(name)!, type: type) }

@Suite struct ForwarderTests {
    @Test func forwardsAndCaches() async throws {
        let upstream = try FakeUpstream { query, _ in FakeUpstream.addresses(query, [IPv4Address(192, 0, 2, 1)], ttl: 60) }
        defer { upstream.stop() }
        let forwarder = Forwarder(upstreams: [ClusterDNS.parseUpstream("127.0.0.1:\(upstream.port)")!])
        try await forwarder.start()

        let (first, cachedFirst) = await forwarder.resolve(question("Example.COM"))
        #expect(!cachedFirst)
        #expect(first?.answers.first?.ttl == 30)
        #expect(addresses(try #require(first).answers) == ["192.0.2.1"])
        // The same name in another case comes from memory, its TTL capped at 30 seconds.
        let (second, cachedSecond) = await forwarder.resolve(question("example.com"))
        #expect(cachedSecond)
        #expect(second?.answers.first?.ttl ?? 0 <= 30)
        #expect(upstream.queries == ["udp Example.COM."])
        await forwarder.stop()
    }

    @Test func retriesTruncatedRepliesOverTCP() async throws {
        let upstream = try FakeUpstream { query, overTCP in
            var reply = FakeUpstream.addresses(query, overTCP ? (1...3).map { IPv4Address(192, 0, 2, $0) } : [])
            reply.truncated = !overTCP
            return reply
        }
        defer { upstream.stop() }
        let forwarder = Forwarder(upstreams: [ClusterDNS.parseUpstream("127.0.0.1:\(upstream.port)")!])
        try await forwarder.start()
        let (answer, _) = await forwarder.resolve(question("big.example.com"))
        #expect(addresses(try #require(answer).answers) == ["192.0.2.1", "192.0.2.2", "192.0.2.3"])
        #expect(answer?.truncated == false)
        #expect(upstream.queries == ["udp big.example.com.", "tcp big.example.com."])
        await forwarder.stop()
    }

    @Test func triesTheNextUpstreamAndGivesUpInTime() async throws {
        let silent = SilentPort()
        defer { silent.close() }
        let upstream = try FakeUpstream { query, _ in FakeUpstream.addresses(query, [IPv4Address(192, 0, 2, 9)]) }
        defer { upstream.stop() }
        let forwarder = Forwarder(upstreams: [ClusterDNS.parseUpstream("127.0.0.1:\(silent.port)")!,
                                              ClusterDNS.parseUpstream("127.0.0.1:\(upstream.port)")!],
                                  timeout: .seconds(3))
        try await forwarder.start()
        let (answer, _) = await forwarder.resolve(question("fallback.example.com"))
        #expect(addresses(try #require(answer).answers) == ["192.0.2.9"])
        await forwarder.stop()

        let dead = Forwarder(upstreams: [ClusterDNS.parseUpstream("127.0.0.1:\(silent.port)")!], timeout: .milliseconds(300))
        try await dead.start()
        let started = ContinuousClock.now
        let (none, _) = await dead.resolve(question("nowhere.example.com"))
        #expect(none == nil)
        #expect(ContinuousClock.now - started < .seconds(2))
        await dead.stop()
    }

    @Test func ignoresRepliesToOtherQuestions() async throws {
        // An upstream answering a different name (a spoof, or a confused server) is not believed.
        let upstream = try FakeUpstream { query, _ in
            var other = query
            other.questions = [question("evil.example.com")]
            return FakeUpstream.addresses(other, [IPv4Address(192, 0, 2, 66)])
        }
        defer { upstream.stop() }
        let forwarder = Forwarder(upstreams: [ClusterDNS.parseUpstream("127.0.0.1:\(upstream.port)")!], timeout: .milliseconds(300))
        try await forwarder.start()
        #expect(await forwarder.resolve(question("good.example.com")).message == nil)
        await forwarder.stop()
    }
}

@Suite struct ForwardCacheTests {
    func answer(ttl: UInt32, rcode: UInt16 = RCode.noError) -> DNSMessage {
        var message = DNSMessage(isResponse: true, rcode: rcode)
        message.questions = [question("example.com")]
        if rcode == RCode.noError {
            message.answers = [DNSRecord(name: DNSName("example.com")!, type: .a, ttl: ttl, data: .a(IPv4Address(192, 0, 2, 1)))]
        }
        return message
    }

    let key = ForwardCache.Key(name: DNSName("example.com")!, type: .a, qclass: 1, dnssecOK: false, checkingDisabled: false)

    @Test func keepsAnswersForTheirTTLAtMostTheCap() {
        let cache = ForwardCache(capacity: 10, maxTTL: 30)
        let now = ContinuousClock.now
        cache.put(key, answer(ttl: 10), now: now)
        #expect(cache.get(key, now: now + .seconds(4))?.answers.first?.ttl == 6)
        #expect(cache.get(key, now: now + .milliseconds(9500))?.answers.first?.ttl == 0)
        #expect(cache.get(key, now: now + .seconds(11)) == nil)

        #expect(cache.put(key, answer(ttl: 3600), now: now).answers.first?.ttl == 30)
        #expect(cache.get(key, now: now + .seconds(29))?.answers.first?.ttl == 1)
        #expect(cache.get(key, now: now + .seconds(31)) == nil)
    }

    @Test func keepsDenialsForTheirNegativeTTL() {
        let cache = ForwardCache(capacity: 10, maxTTL: 30)
        let now = ContinuousClock.now
        var denial = answer(ttl: 0, rcode: RCode.nameError)
        denial.authority = [DNSRecord(name: DNSName("com")!, type: .soa, ttl: 900, data: .soa(SOA(
            mname: DNSName("a.gtld-servers.net")!, rname: DNSName("nstld.verisign-grs.com")!,
            serial: 1, refresh: 1800, retry: 900, expire: 604800, minimum: 20)))]
        #expect(cache.put(key, denial, now: now).authority.first?.ttl == 20)
        #expect(cache.get(key, now: now + .seconds(5))?.rcode == RCode.nameError)
        #expect(cache.get(key, now: now + .seconds(21)) == nil)
    }

    @Test func keepsNeitherErrorsNorDenialsWithoutSOA() {
        let cache = ForwardCache()
        cache.put(key, answer(ttl: 60, rcode: RCode.nameError))
        cache.put(key, answer(ttl: 60, rcode: RCode.serverFailure))
        cache.put(key, answer(ttl: 0))
        var truncated = answer(ttl: 60)
        truncated.truncated = true
        cache.put(key, truncated)
        #expect(cache.count == 0)
    }

    @Test func staysWithinItsCapacity() {
        let cache = ForwardCache(capacity: 50, maxTTL: 30)
        for i in 0..<500 {
            let key = ForwardCache.Key(name: DNSName("host\(i).example.com")!, type: .a, qclass: 1, dnssecOK: false, checkingDisabled: false)
            cache.put(key, answer(ttl: 60))
        }
        #expect(cache.count <= 50)
    }
}

@Suite struct UpstreamListTests {
    @Test func parsesAddresses() {
        #expect(ClusterDNS.parseUpstream("192.0.2.53")?.port == 53)
        #expect(ClusterDNS.parseUpstream("192.0.2.53:5353")?.port == 5353)
        #expect(ClusterDNS.parseUpstream("2001:db8::53")?.port == 53)
        #expect(ClusterDNS.parseUpstream("[2001:db8::53]:5353")?.port == 5353)
        for bad in ["dns.example.com", "192.0.2.53:", "192.0.2.53:70000", "[2001:db8::53", "", "192.0.2.300"] {
            #expect(ClusterDNS.parseUpstream(bad) == nil, "\(bad)")
        }
    }

    @Test func neverIncludesTheServersOwnAddress() {
        let specific = ClusterDNS.upstreamAddresses(["127.0.0.1:5353", "127.0.0.1:53", "192.0.2.53", "nonsense", "192.0.2.53"],
                                                    avoiding: "127.0.0.1", port: 5353)
        #expect(specific.map(\.description) == [ClusterDNS.parseUpstream("127.0.0.1:53")!.description, ClusterDNS.parseUpstream("192.0.2.53")!.description])
        // Listening on every address: loopback and the machine's own addresses are us.
        let wildcard = ClusterDNS.upstreamAddresses(["127.0.0.1", "[::1]:53", "127.0.0.53", "192.0.2.53"], avoiding: "0.0.0.0", port: 53)
        #expect(wildcard.compactMap(\.ipAddress) == ["127.0.0.53", "192.0.2.53"])
    }

    @Test func readsResolvConf() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("resolv-\(UInt32.random(in: 0 ... .max)).conf").path
        try "# generated\nsearch example.com\nnameserver 192.0.2.1\nnameserver\t2001:db8::1\noptions ndots:5\n nameserver 192.0.2.2\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(ClusterDNS.resolvConfNameservers(path) == ["192.0.2.1", "2001:db8::1"])
        #expect(ClusterDNS.resolvConfNameservers("/nonexistent/resolv.conf") == [])
    }
}
