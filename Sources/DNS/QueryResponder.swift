/// Turns a query's bytes into what to do with it: the reply bytes when the cluster zone (or the
/// packet's brokenness) decides it, otherwise a forwarding job. Pure, so tests and benchmarks
/// drive it without sockets.
struct QueryResponder: Sendable {
    let zone: ClusterZone

    /// The UDP payload size this server says it accepts (RFC 6891; 1232 avoids fragmentation,
    /// as DNS Flag Day 2020 advises).
    static let advertisedPayloadSize: UInt16 = 1232
    /// Without EDNS a UDP reply is at most 512 bytes (RFC 1035 4.2.1).
    static let classicUDPSize = 512

    enum Transport: Sendable { case udp, tcp }

    enum Outcome: Sendable {
        case reply([UInt8], rcode: UInt16)
        /// Not the zone's: ask the upstream resolvers, then `finish`.
        case forward(DNSMessage, limit: Int)
        /// The zone's answer ends in a CNAME to an outside name: append that name's records from
        /// upstream, then encode within `limit`.
        case chase(DNSMessage, ClusterZone.Chase, query: DNSMessage, limit: Int)
        /// Not worth an answer (too short, or itself a response).
        case drop
    }

    func respond(to bytes: [UInt8], transport: Transport, records: ClusterRecords) -> Outcome {
        guard let header = MessageDecoder.header(bytes), header.flags & 0x8000 == 0 else { return .drop }
        let query: DNSMessage
        do {
            query = try MessageDecoder.decode(bytes)
        } catch {
            var reply = DNSMessage(id: header.id, isResponse: true, opcode: UInt8(header.flags >> 11 & 0x0F), rcode: RCode.formatError)
            reply.recursionDesired = header.flags & 0x0100 != 0
            return .reply(MessageEncoder.encode(reply), rcode: RCode.formatError)
        }
        let limit = Self.limit(for: query, transport: transport)
        if query.opcode != 0 { return finish(reply: DNSMessage.reply(to: query, rcode: RCode.notImplemented), query: query, limit: limit) }
        guard query.questions.count == 1 else {
            return finish(reply: DNSMessage.reply(to: query, rcode: RCode.formatError), query: query, limit: limit)
        }
        if let edns = query.edns, edns.version != 0 {
            return finish(reply: DNSMessage.reply(to: query, rcode: RCode.badVersion), query: query, limit: limit)
        }
        switch zone.answer(query, records: records) {
        case .notAuthoritative: return .forward(query, limit: limit)
        case .response(let reply, let chase?): return .chase(reply, chase, query: query, limit: limit)
        case .response(let reply, nil): return finish(reply: reply, query: query, limit: limit)
        }
    }

    /// The largest reply the client takes: its EDNS size over UDP (at least 512), else 512;
    /// over TCP what the length prefix allows.
    static func limit(for query: DNSMessage, transport: Transport) -> Int {
        guard transport == .udp else { return 65535 }
        return max(classicUDPSize, Int(query.edns?.udpPayloadSize ?? 0))
    }

    /// Encodes a reply to `query`: the question's id, an OPT record back when the query had one
    /// (our size, its DO bit), truncated to `limit`.
    func finish(reply: DNSMessage, query: DNSMessage, limit: Int) -> Outcome {
        var reply = reply
        reply.id = query.id
        if let edns = query.edns {
            reply.edns = EDNS(udpPayloadSize: Self.advertisedPayloadSize, dnssecOK: edns.dnssecOK)
        } else {
            reply.edns = nil
            if reply.rcode > 15 { reply.rcode = RCode.serverFailure }
        }
        return .reply(MessageEncoder.encode(reply, limit: limit), rcode: reply.rcode)
    }

    /// The zone's reply with a chased CNAME target's records appended (the upstream's answer
    /// section, when it had one).
    func finishChase(reply: DNSMessage, upstream: DNSMessage?, query: DNSMessage, limit: Int) -> Outcome {
        var reply = reply
        if let upstream, upstream.rcode == RCode.noError { reply.answers += upstream.answers }
        return finish(reply: reply, query: query, limit: limit)
    }

    /// An upstream's answer as the reply to `query`: the client's id, question (in its case) and
    /// RD/CD bits; our own EDNS instead of the upstream's. SERVFAIL when no upstream answered.
    func finishForwarded(_ upstream: DNSMessage?, query: DNSMessage, limit: Int) -> Outcome {
        guard var reply = upstream else {
            return finish(reply: DNSMessage.reply(to: query, rcode: RCode.serverFailure), query: query, limit: limit)
        }
        let asked = query.questions.first
        reply.questions = query.questions
        reply.recursionDesired = query.recursionDesired
        reply.checkingDisabled = query.checkingDisabled
        if let asked {
            // Records owned by the question's name carry the client's spelling of it.
            for i in reply.answers.indices where reply.answers[i].name.equalsIgnoringCase(asked.name) {
                reply.answers[i].name = asked.name
            }
        }
        return finish(reply: reply, query: query, limit: limit)
    }
}
