/// A record type (RFC 1035 3.2.2 and later), named where the server treats it specially.
struct RRType: Hashable, Sendable, CustomStringConvertible {
    let rawValue: UInt16
    init(_ rawValue: UInt16) { self.rawValue = rawValue }

    static let a = RRType(1), ns = RRType(2), md = RRType(3), mf = RRType(4), cname = RRType(5), soa = RRType(6)
    static let mb = RRType(7), mg = RRType(8), mr = RRType(9), ptr = RRType(12), minfo = RRType(14), mx = RRType(15)
    static let txt = RRType(16), rp = RRType(17), afsdb = RRType(18), rt = RRType(21), aaaa = RRType(28), srv = RRType(33)
    static let opt = RRType(41), ixfr = RRType(251), axfr = RRType(252), any = RRType(255)

    var description: String {
        switch self {
        case .a: "A"
        case .ns: "NS"
        case .cname: "CNAME"
        case .soa: "SOA"
        case .ptr: "PTR"
        case .mx: "MX"
        case .txt: "TXT"
        case .aaaa: "AAAA"
        case .srv: "SRV"
        case .opt: "OPT"
        case .axfr: "AXFR"
        case .ixfr: "IXFR"
        case .any: "ANY"
        default: "TYPE\(rawValue)"
        }
    }
}

enum DNSClass {
    static let internet: UInt16 = 1
    static let any: UInt16 = 255
}

/// Response codes; values above 15 need EDNS (the upper bits travel in the OPT record).
enum RCode {
    static let noError: UInt16 = 0
    static let formatError: UInt16 = 1
    static let serverFailure: UInt16 = 2
    static let nameError: UInt16 = 3
    static let notImplemented: UInt16 = 4
    static let refused: UInt16 = 5
    static let badVersion: UInt16 = 16
}

struct DNSQuestion: Hashable, Sendable {
    var name: DNSName
    var type: RRType
    var qclass: UInt16 = DNSClass.internet
}

/// The data of the record types the server makes or must rewrite; every other type is carried
/// as opaque bytes (RFC 3597: types after RFC 1035 never compress names in their data).
enum RData: Hashable, Sendable {
    case a(IPv4Address)
    case aaaa([UInt8])
    /// NS, CNAME, PTR and the other single-name types of RFC 1035.
    case name(DNSName)
    /// MX, AFSDB, RT: a 16-bit number, then a name.
    case numberAndName(UInt16, DNSName)
    /// MINFO, RP.
    case twoNames(DNSName, DNSName)
    case srv(priority: UInt16, weight: UInt16, port: UInt16, target: DNSName)
    case soa(SOA)
    case txt([[UInt8]])
    case opaque([UInt8])
}

struct SOA: Hashable, Sendable {
    var mname: DNSName
    var rname: DNSName
    var serial: UInt32
    var refresh: UInt32
    var retry: UInt32
    var expire: UInt32
    var minimum: UInt32
}

struct DNSRecord: Hashable, Sendable {
    var name: DNSName
    var type: RRType
    var rclass: UInt16 = DNSClass.internet
    var ttl: UInt32
    var data: RData
}

/// EDNS0 (RFC 6891), held apart from the additional section: at most one OPT per message.
struct EDNS: Hashable, Sendable {
    /// The largest UDP payload the sender accepts.
    var udpPayloadSize: UInt16
    var version: UInt8 = 0
    var dnssecOK = false
    /// Upper 8 bits of the 12-bit response code.
    var extendedRCode: UInt8 = 0
    /// Options, kept as sent (code, length, data ...).
    var options: [UInt8] = []
}

/// One DNS message (RFC 1035 4.1). `rcode` is the full 12-bit code; its upper bits travel in the
/// OPT record when there is one.
struct DNSMessage: Hashable, Sendable {
    var id: UInt16 = 0
    var isResponse = false
    var opcode: UInt8 = 0
    var authoritative = false
    var truncated = false
    var recursionDesired = false
    var recursionAvailable = false
    var authenticData = false
    var checkingDisabled = false
    var rcode: UInt16 = RCode.noError
    var questions: [DNSQuestion] = []
    var answers: [DNSRecord] = []
    var authority: [DNSRecord] = []
    var additional: [DNSRecord] = []
    var edns: EDNS?

    /// A response shell for `query`: its id, opcode and question, RD and CD copied, as
    /// miekg/dns's SetReply does for CoreDNS.
    static func reply(to query: DNSMessage, rcode: UInt16 = RCode.noError) -> DNSMessage {
        var reply = DNSMessage(id: query.id, isResponse: true, opcode: query.opcode, rcode: rcode)
        reply.questions = query.questions
        if query.opcode == 0 {
            reply.recursionDesired = query.recursionDesired
            reply.checkingDisabled = query.checkingDisabled
        }
        return reply
    }

    var flags: UInt16 {
        var f: UInt16 = 0
        if isResponse { f |= 0x8000 }
        f |= UInt16(opcode & 0x0F) << 11
        if authoritative { f |= 0x0400 }
        if truncated { f |= 0x0200 }
        if recursionDesired { f |= 0x0100 }
        if recursionAvailable { f |= 0x0080 }
        if authenticData { f |= 0x0020 }
        if checkingDisabled { f |= 0x0010 }
        f |= rcode & 0x000F
        return f
    }

    mutating func setFlags(_ f: UInt16) {
        isResponse = f & 0x8000 != 0
        opcode = UInt8(f >> 11 & 0x0F)
        authoritative = f & 0x0400 != 0
        truncated = f & 0x0200 != 0
        recursionDesired = f & 0x0100 != 0
        recursionAvailable = f & 0x0080 != 0
        authenticData = f & 0x0020 != 0
        checkingDisabled = f & 0x0010 != 0
        rcode = f & 0x000F
    }
}
