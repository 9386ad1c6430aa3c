/// Writes a message in wire form, compressing names (RFC 1035 4.1.4) against every name already
/// written, case-sensitively so each name keeps the case it was given.
struct MessageEncoder {
    private(set) var bytes: [UInt8] = []
    /// Where each name suffix already written starts (only offsets a pointer can reach).
    private var suffixes: [ArraySlice<UInt8>: Int] = [:]

    init(capacity: Int = 512) { bytes.reserveCapacity(capacity) }

    static let headerSize = 12

    /// The message's bytes, at most `limit` long when it can be. What does not fit goes as RFC
    /// 2181 9 and RFC 1035 allow: first the additional section (no TC needed), then everything
    /// past the question, with TC set so the client asks again over TCP.
    static func encode(_ message: DNSMessage, limit: Int = 65535) -> [UInt8] {
        let full = encodeWhole(message)
        if full.count <= limit { return full }
        var lean = message
        lean.additional = []
        let withoutAdditional = encodeWhole(lean)
        if withoutAdditional.count <= limit { return withoutAdditional }
        lean.answers = []
        lean.authority = []
        lean.truncated = true
        return encodeWhole(lean)
    }

    static func encodeWhole(_ message: DNSMessage) -> [UInt8] {
        var encoder = MessageEncoder()
        encoder.write(message)
        return encoder.bytes
    }

    mutating func write(_ message: DNSMessage) {
        u16(message.id)
        u16(message.flags)
        u16(UInt16(message.questions.count))
        u16(UInt16(message.answers.count))
        u16(UInt16(message.authority.count))
        u16(UInt16(message.additional.count + (message.edns == nil ? 0 : 1)))
        for question in message.questions {
            name(question.name)
            u16(question.type.rawValue)
            u16(question.qclass)
        }
        for record in message.answers { write(record) }
        for record in message.authority { write(record) }
        for record in message.additional { write(record) }
        if let edns = message.edns {
            var flags: UInt32 = UInt32(message.rcode >> 4 & 0xFF) << 24 | UInt32(edns.version) << 16
            if edns.dnssecOK { flags |= 0x8000 }
            write(DNSRecord(name: .root, type: .opt, rclass: edns.udpPayloadSize, ttl: flags, data: .opaque(edns.options)))
        }
    }

    mutating func write(_ record: DNSRecord) {
        name(record.name)
        u16(record.type.rawValue)
        u16(record.rclass)
        u32(record.ttl)
        let lengthAt = bytes.count
        u16(0)
        switch record.data {
        case .a(let ip): bytes.append(contentsOf: ip.bytes)
        case .aaaa(let raw), .opaque(let raw): bytes.append(contentsOf: raw)
        case .name(let n): name(n)
        case .numberAndName(let number, let n): u16(number); name(n)
        case .twoNames(let first, let second): name(first); name(second)
        case .srv(let priority, let weight, let port, let target):
            u16(priority); u16(weight); u16(port)
            name(target, compress: false)  // RFC 2782: the target is never compressed
        case .soa(let soa):
            name(soa.mname); name(soa.rname)
            u32(soa.serial); u32(soa.refresh); u32(soa.retry); u32(soa.expire); u32(soa.minimum)
        case .txt(let strings):
            for string in strings {
                let piece = string.prefix(255)
                bytes.append(UInt8(piece.count))
                bytes.append(contentsOf: piece)
            }
        }
        let length = bytes.count - lengthAt - 2
        bytes[lengthAt] = UInt8(length >> 8)
        bytes[lengthAt + 1] = UInt8(length & 0xFF)
    }

    mutating func name(_ name: DNSName, compress: Bool = true) {
        let wire = name.wire
        var i = 0
        while wire[i] != 0 {
            let suffix = wire[i...]
            if compress, let target = suffixes[suffix] {
                u16(0xC000 | UInt16(target))
                return
            }
            if bytes.count < 0x3FFF { suffixes[suffix] = bytes.count }
            let length = Int(wire[i])
            bytes.append(contentsOf: wire[i...(i + length)])
            i += length + 1
        }
        bytes.append(0)
    }

    mutating func u16(_ value: UInt16) {
        bytes.append(UInt8(value >> 8))
        bytes.append(UInt8(value & 0xFF))
    }

    mutating func u32(_ value: UInt32) {
        u16(UInt16(value >> 16))
        u16(UInt16(value & 0xFFFF))
    }
}
