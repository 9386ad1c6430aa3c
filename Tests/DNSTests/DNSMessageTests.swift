import Testing
@testable import DNS

@Suite struct DNSNameTests {
    @Test func parsesAndPrints() throws {
        let name = try #require(DNSName("Web.Default.svc.cluster.local"))
        #expect(name.description == "Web.Default.svc.cluster.local.")
        #expect(name.labelCount == 5)
        #expect(name.lowercasedLabels == ["web", "default", "svc", "cluster", "local"])
        #expect(DNSName("web.default.")?.wire == [3, 119, 101, 98, 7, 100, 101, 102, 97, 117, 108, 116, 0])
        #expect(DNSName(".") == .root)
        #expect(DNSName("") == .root)
        #expect(DNSName.root.description == ".")
        #expect(name.suffix(labels: 2).description == "cluster.local.")
    }

    @Test func refusesMalformedNames() {
        #expect(DNSName(String(repeating: "a", count: 64) + ".com") == nil)
        #expect(DNSName("a..b") == nil)
        #expect(DNSName(Array(repeating: "abcdefghi", count: 30).joined(separator: ".")) == nil)
        #expect(DNSName(String(repeating: "a", count: 63) + ".com") != nil)
    }

    @Test func comparesCaseInsensitively() throws {
        let a = try #require(DNSName("WEB.default.Svc")), b = try #require(DNSName("web.DEFAULT.svc"))
        #expect(a != b)
        #expect(a.equalsIgnoringCase(b))
        #expect(a.lowercased() == b.lowercased())
        // '@' and '`' differ by the case bit but are not letters.
        #expect(!DNSName("a@b")!.equalsIgnoringCase(DNSName("a`b")!))
    }

    @Test func escapesOddBytes() {
        let name = DNSName(trustedWire: [3, 97, 46, 0x07, 3, 99, 111, 109, 0])
        #expect(name.description == "a\\.\\007.com.")
    }
}

@Suite struct DNSMessageCodecTests {
    func sample() throws -> DNSMessage {
        let owner = try #require(DNSName("web.default.svc.cluster.local"))
        let zone = try #require(DNSName("cluster.local"))
        var message = DNSMessage(id: 0xBEEF, isResponse: true, opcode: 0, authoritative: true, truncated: false,
                                 recursionDesired: true, recursionAvailable: true, authenticData: false, checkingDisabled: true,
                                 rcode: RCode.noError)
        message.questions = [DNSQuestion(name: owner, type: .srv)]
        message.answers = [
            DNSRecord(name: owner, type: .a, ttl: 5, data: .a(IPv4Address(10, 96, 0, 20))),
            DNSRecord(name: owner, type: .aaaa, ttl: 5, data: .aaaa(Array(0..<16))),
            DNSRecord(name: owner, type: .cname, ttl: 5, data: .name(try #require(DNSName("example.com")))),
            DNSRecord(name: owner, type: .srv, ttl: 5, data: .srv(priority: 0, weight: 50, port: 8080, target: owner)),
            DNSRecord(name: owner, type: .txt, ttl: 28800, data: .txt([Array("1.1.0".utf8), []])),
            DNSRecord(name: owner, type: .mx, ttl: 60, data: .numberAndName(10, try #require(DNSName("mail.cluster.local")))),
            DNSRecord(name: owner, type: .rp, ttl: 60, data: .twoNames(zone, owner)),
            DNSRecord(name: owner, type: RRType(99), ttl: 1, data: .opaque([1, 2, 3])),
        ]
        message.authority = [DNSRecord(name: zone, type: .soa, ttl: 5, data: .soa(SOA(
            mname: try #require(DNSName("ns.dns.cluster.local")), rname: try #require(DNSName("hostmaster.cluster.local")),
            serial: 1_700_000_000, refresh: 7200, retry: 1800, expire: 86400, minimum: 5)))]
        message.additional = [DNSRecord(name: owner, type: .ptr, ttl: 5, data: .name(zone))]
        message.edns = EDNS(udpPayloadSize: 1232, version: 0, dnssecOK: true, options: [0, 10, 0, 2, 0xAB, 0xCD])
        return message
    }

    @Test func roundTrips() throws {
        let message = try sample()
        let bytes = MessageEncoder.encodeWhole(message)
        #expect(try MessageDecoder.decode(bytes) == message)
    }

    @Test func roundTripsExtendedRCode() throws {
        var message = DNSMessage(id: 1, isResponse: true, rcode: RCode.badVersion)
        message.edns = EDNS(udpPayloadSize: 512)
        let decoded = try MessageDecoder.decode(MessageEncoder.encodeWhole(message))
        #expect(decoded.rcode == RCode.badVersion)
        #expect(decoded.edns?.extendedRCode == 1)
    }

    @Test func compressesRepeatedNames() throws {
        let owner = try #require(DNSName("web.default.svc.cluster.local"))
        var message = DNSMessage(id: 1, isResponse: true)
        message.questions = [DNSQuestion(name: owner, type: .a)]
        message.answers = [DNSRecord(name: owner, type: .a, ttl: 5, data: .a(IPv4Address(10, 0, 0, 1))),
                           DNSRecord(name: owner, type: .a, ttl: 5, data: .a(IPv4Address(10, 0, 0, 2)))]
        let bytes = MessageEncoder.encodeWhole(message)
        // header 12 + question (31 + 4) + two answers of (pointer 2 + 10 + 4)
        #expect(bytes.count == 12 + 35 + 2 * 16)
        let firstAnswer = 12 + 35
        #expect(Array(bytes[firstAnswer..<firstAnswer + 2]) == [0xC0, 12])
        #expect(try MessageDecoder.decode(bytes) == message)
    }

    @Test func compressesSuffixesButKeepsCase() throws {
        var message = DNSMessage(id: 1, isResponse: true)
        message.questions = [DNSQuestion(name: try #require(DNSName("WEB.default.svc.cluster.local")), type: .a)]
        message.authority = [DNSRecord(name: try #require(DNSName("cluster.local")), type: .ns, ttl: 5,
                                       data: .name(try #require(DNSName("ns.dns.CLUSTER.local"))))]
        let bytes = MessageEncoder.encodeWhole(message)
        let decoded = try MessageDecoder.decode(bytes)
        #expect(decoded == message)
        #expect(decoded.authority[0].data == .name(DNSName("ns.dns.CLUSTER.local")!))
        // "cluster.local" is a pointer into the question: 12 + 4 (WEB) + 8 (default) + 4 (svc) = 28.
        let ownerAt = 12 + 31 + 4
        #expect(Array(bytes[ownerAt..<ownerAt + 2]) == [0xC0, 28])
    }

    @Test func srvTargetsAreNotCompressed() throws {
        let owner = try #require(DNSName("_http._tcp.web.default.svc.cluster.local"))
        let target = try #require(DNSName("web.default.svc.cluster.local"))
        var message = DNSMessage(id: 1, isResponse: true)
        message.questions = [DNSQuestion(name: owner, type: .srv)]
        message.answers = [DNSRecord(name: owner, type: .srv, ttl: 5, data: .srv(priority: 0, weight: 100, port: 80, target: target))]
        let bytes = MessageEncoder.encodeWhole(message)
        #expect(bytes.count == 12 + (owner.wire.count + 4) + (2 + 10 + 6 + target.wire.count))
        #expect(try MessageDecoder.decode(bytes) == message)
    }

    @Test func refusesPointerLoopsAndForwardPointers() {
        // A question whose name is a pointer to itself.
        let selfPointer: [UInt8] = [0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1]
        #expect(throws: DNSDecodeError.badPointer) { try MessageDecoder.decode(selfPointer) }
        // A pointer past itself.
        let forward: [UInt8] = [0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 16, 0, 1, 0, 1, 1, 97, 0]
        #expect(throws: DNSDecodeError.badPointer) { try MessageDecoder.decode(forward) }
        // Two pointers chasing each other through an earlier name.
        let pingPong: [UInt8] = [0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 1, 97, 0xC0, 18, 0, 1, 0, 1, 0xC0, 12, 0, 1, 0, 1]
        #expect(throws: DNSDecodeError.self) { try MessageDecoder.decode(pingPong) }
    }

    @Test func refusesTruncatedAndOversizedCounts() {
        #expect(throws: DNSDecodeError.truncated) { try MessageDecoder.decode([0, 1, 0]) }
        // Claims 65535 answers in 12 bytes.
        #expect(throws: DNSDecodeError.truncated) { try MessageDecoder.decode([0, 1, 0, 0, 0, 0, 0xFF, 0xFF, 0, 0, 0, 0]) }
        // A label running off the end.
        #expect(throws: DNSDecodeError.truncated) { try MessageDecoder.decode([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 9, 97, 98]) }
    }

    @Test func survivesRandomBytes() {
        var generator = SystemRandomNumberGenerator()
        let base = MessageEncoder.encodeWhole((try? sample()) ?? DNSMessage())
        for round in 0..<3000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = (0..<Int.random(in: 0..<300, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            } else {
                // Flip a few bytes of a valid message: close to real, so it gets deep into the decoder.
                bytes = base
                for _ in 0..<3 { bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator) }
            }
            if let message = try? MessageDecoder.decode(bytes) {
                // Whatever decodes encodes and decodes to the same thing.
                #expect((try? MessageDecoder.decode(MessageEncoder.encodeWhole(message))) == message)
            }
        }
    }

    @Test func truncatesToTheLimit() throws {
        let owner = try #require(DNSName("nginx.default.svc.cluster.local"))
        var message = DNSMessage(id: 7, isResponse: true)
        message.questions = [DNSQuestion(name: owner, type: .srv)]
        message.answers = (0..<20).map { DNSRecord(name: owner, type: .a, ttl: 5, data: .a(IPv4Address(10, 244, 0, UInt8($0)))) }
        message.additional = (0..<20).map { DNSRecord(name: owner, type: .a, ttl: 5, data: .a(IPv4Address(10, 244, 1, UInt8($0)))) }
        message.edns = EDNS(udpPayloadSize: 1232)
        let full = MessageEncoder.encode(message)
        #expect(full.count > 512)

        // The additional section goes first, without TC.
        let lean = try MessageDecoder.decode(MessageEncoder.encode(message, limit: full.count - 1))
        #expect(!lean.truncated)
        #expect(lean.answers.count == 20 && lean.additional.isEmpty && lean.edns != nil)

        // Then everything past the question, with TC.
        let cut = MessageEncoder.encode(message, limit: 200)
        #expect(cut.count <= 200)
        let decoded = try MessageDecoder.decode(cut)
        #expect(decoded.truncated && decoded.answers.isEmpty && decoded.questions == message.questions && decoded.edns != nil)
    }

    @Test func readsTheQuestionTypeCheaply() throws {
        var message = DNSMessage(id: 1)
        message.questions = [DNSQuestion(name: try #require(DNSName("a.b")), type: .srv)]
        #expect(MessageDecoder.questionType(MessageEncoder.encodeWhole(message)) == .srv)
        #expect(MessageDecoder.questionType([0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]) == nil)
    }
}

@Suite struct IPv4AddressTests {
    @Test func parsesStrictly() {
        #expect(IPv4Address("10.96.0.10") == IPv4Address(10, 96, 0, 10))
        #expect(IPv4Address("10-244-0-5", separator: UInt8(ascii: "-")) == IPv4Address(10, 244, 0, 5))
        for bad in ["10.96.0", "10.96.0.256", "10.96.0.01", "10..0.1", "a.b.c.d", "1.2.3.4.5", "", "1.2.3.4."] {
            #expect(IPv4Address(bad) == nil, "\(bad)")
        }
        #expect(IPv4Address(10, 244, 0, 5).dashed == "10-244-0-5")
        #expect(IPv4Address(0, 0, 0, 0).description == "0.0.0.0")
    }
}
