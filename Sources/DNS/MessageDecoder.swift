/// Why a packet is not a DNS message the server can read.
enum DNSDecodeError: Error, Equatable {
    case truncated
    case badName
    case badPointer
    case badRecord
    case duplicateOPT
}

/// Reads a message from wire bytes (RFC 1035 4.1), following compression pointers (4.1.4) only
/// backwards, so a hostile packet can neither loop nor read outside itself.
struct MessageDecoder {
    let bytes: [UInt8]
    var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    static func decode(_ bytes: [UInt8]) throws(DNSDecodeError) -> DNSMessage {
        var decoder = MessageDecoder(bytes)
        return try decoder.message()
    }

    /// Just the id and flags, for answering a packet too broken to decode.
    static func header(_ bytes: [UInt8]) -> (id: UInt16, flags: UInt16)? {
        guard bytes.count >= 12 else { return nil }
        return (UInt16(bytes[0]) << 8 | UInt16(bytes[1]), UInt16(bytes[2]) << 8 | UInt16(bytes[3]))
    }

    /// The first question's type, read without decoding the rest (for counting requests).
    static func questionType(_ bytes: [UInt8]) -> RRType? {
        guard bytes.count > 12, bytes[4] != 0 || bytes[5] != 0 else { return nil }
        var i = 12
        while i < bytes.count, bytes[i] != 0 {
            if bytes[i] & 0xC0 != 0 { return nil }
            i += Int(bytes[i]) + 1
        }
        guard i + 2 < bytes.count else { return nil }
        return RRType(UInt16(bytes[i + 1]) << 8 | UInt16(bytes[i + 2]))
    }

    mutating func message() throws(DNSDecodeError) -> DNSMessage {
        var message = DNSMessage()
        message.id = try u16()
        message.setFlags(try u16())
        let qd = Int(try u16()), an = Int(try u16()), ns = Int(try u16()), ar = Int(try u16())
        // Each question takes at least 5 bytes and each record 11: bound the counts by the packet
        // before reserving anything.
        guard qd * 5 + (an + ns + ar) * 11 <= bytes.count - offset else { throw .truncated }
        message.questions.reserveCapacity(qd)
        for _ in 0..<qd {
            message.questions.append(DNSQuestion(name: try name(), type: RRType(try u16()), qclass: try u16()))
        }
        message.answers = try records(an)
        message.authority = try records(ns)
        for record in try records(ar) {
            guard record.type == .opt else { message.additional.append(record); continue }
            guard message.edns == nil else { throw .duplicateOPT }
            guard record.name == .root, case .opaque(let options) = record.data else { throw .badRecord }
            message.edns = EDNS(udpPayloadSize: record.rclass, version: UInt8(record.ttl >> 16 & 0xFF),
                                dnssecOK: record.ttl & 0x8000 != 0, extendedRCode: UInt8(record.ttl >> 24),
                                options: options)
            message.rcode |= UInt16(record.ttl >> 24) << 4
        }
        return message
    }

    mutating func records(_ count: Int) throws(DNSDecodeError) -> [DNSRecord] {
        var records: [DNSRecord] = []
        records.reserveCapacity(count)
        for _ in 0..<count { records.append(try record()) }
        return records
    }

    mutating func record() throws(DNSDecodeError) -> DNSRecord {
        let owner = try name()
        let type = RRType(try u16())
        let rclass = try u16()
        let ttl = try u32()
        let length = Int(try u16())
        guard offset + length <= bytes.count else { throw .truncated }
        let end = offset + length
        let data: RData
        switch type {
        case .a where length == 4:
            data = .a(IPv4Address(bytes[offset], bytes[offset + 1], bytes[offset + 2], bytes[offset + 3]))
            offset = end
        case .aaaa where length == 16:
            data = .aaaa(Array(bytes[offset..<end]))
            offset = end
        case .ns, .md, .mf, .cname, .mb, .mg, .mr, .ptr:
            data = .name(try name())
        case .mx, .afsdb, .rt:
            data = .numberAndName(try u16(), try name())
        case .minfo, .rp:
            data = .twoNames(try name(), try name())
        case .srv:
            data = .srv(priority: try u16(), weight: try u16(), port: try u16(), target: try name())
        case .soa:
            data = .soa(SOA(mname: try name(), rname: try name(), serial: try u32(), refresh: try u32(),
                            retry: try u32(), expire: try u32(), minimum: try u32()))
        case .txt:
            var strings: [[UInt8]] = []
            while offset < end {
                let n = Int(bytes[offset])
                guard offset + 1 + n <= end else { throw .badRecord }
                strings.append(Array(bytes[(offset + 1)..<(offset + 1 + n)]))
                offset += 1 + n
            }
            data = .txt(strings)
        default:
            data = .opaque(Array(bytes[offset..<end]))
            offset = end
        }
        guard offset == end else { throw .badRecord }
        return DNSRecord(name: owner, type: type, rclass: rclass, ttl: ttl, data: data)
    }

    /// A name at the cursor, pointers followed; the cursor ends after the name's first piece.
    mutating func name() throws(DNSDecodeError) -> DNSName {
        var wire: [UInt8] = []
        wire.reserveCapacity(32)
        var position = offset
        var resumeAt: Int?
        // Every pointer must go strictly before the piece that holds it.
        var lowestJump = offset
        while true {
            guard position < bytes.count else { throw .truncated }
            let length = bytes[position]
            switch length & 0xC0 {
            case 0x00:
                if length == 0 {
                    wire.append(0)
                    offset = resumeAt ?? position + 1
                    return DNSName(trustedWire: wire)
                }
                let end = position + 1 + Int(length)
                guard end <= bytes.count else { throw .truncated }
                wire.append(contentsOf: bytes[position..<end])
                guard wire.count < DNSName.maxLength else { throw .badName }
                position = end
            case 0xC0:
                guard position + 1 < bytes.count else { throw .truncated }
                let target = Int(length & 0x3F) << 8 | Int(bytes[position + 1])
                guard target < lowestJump else { throw .badPointer }
                if resumeAt == nil { resumeAt = position + 2 }
                lowestJump = target
                position = target
            default:
                throw .badName  // 0x40 and 0x80 label types are obsolete (RFC 6891 5)
            }
        }
    }

    mutating func u16() throws(DNSDecodeError) -> UInt16 {
        guard offset + 2 <= bytes.count else { throw .truncated }
        defer { offset += 2 }
        return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    mutating func u32() throws(DNSDecodeError) -> UInt32 {
        guard offset + 4 <= bytes.count else { throw .truncated }
        defer { offset += 4 }
        return UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
    }
}
