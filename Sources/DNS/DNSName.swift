/// A domain name in uncompressed wire form: length-prefixed labels ending with the root's zero
/// byte. The bytes are kept as the client sent them, so an answer can echo the question's case;
/// lookups go through `lowercasedLabels`, as DNS names compare case-insensitively (RFC 4343).
struct DNSName: Hashable, Sendable, CustomStringConvertible {
    /// At most 255 bytes, each label 1...63 bytes (RFC 1035 2.3.4).
    private(set) var wire: [UInt8]

    static let maxLength = 255
    static let root = DNSName(trustedWire: [0])

    init(trustedWire: [UInt8]) { wire = trustedWire }

    /// From labels (no dots inside any), nil if a label or the whole is too long.
    init?(labels: some Sequence<some StringProtocol>) {
        var wire: [UInt8] = []
        wire.reserveCapacity(64)
        for label in labels {
            let count = label.utf8.count
            guard count > 0, count <= 63 else { return nil }
            wire.append(UInt8(count))
            wire.append(contentsOf: label.utf8)
        }
        wire.append(0)
        guard wire.count <= Self.maxLength else { return nil }
        self.wire = wire
    }

    /// From presentation form, `a.b.c` or `a.b.c.` (`.` or empty is the root); no escapes.
    init?(_ text: String) {
        let trimmed = text.hasSuffix(".") ? String(text.dropLast()) : text
        if trimmed.isEmpty { self = .root; return }
        self.init(labels: trimmed.split(separator: ".", omittingEmptySubsequences: false))
    }

    /// This name with `suffix` appended (suffix's root included).
    func appending(_ suffix: DNSName) -> DNSName? {
        let joined = wire.dropLast() + suffix.wire
        return joined.count <= Self.maxLength ? DNSName(trustedWire: Array(joined)) : nil
    }

    var labelCount: Int {
        var count = 0, i = 0
        while wire[i] != 0 { count += 1; i += Int(wire[i]) + 1 }
        return count
    }

    /// Byte offsets where each label starts, then the root's offset.
    var labelOffsets: [Int] {
        var offsets: [Int] = [], i = 0
        while wire[i] != 0 { offsets.append(i); i += Int(wire[i]) + 1 }
        offsets.append(i)
        return offsets
    }

    /// The last `count` labels (with the root), as sent.
    func suffix(labels count: Int) -> DNSName {
        let offsets = labelOffsets
        return DNSName(trustedWire: Array(wire[offsets[offsets.count - 1 - count]...]))
    }

    /// Each label lowercased (ASCII only), as strings: the form every lookup uses.
    var lowercasedLabels: [String] {
        var labels: [String] = []
        labels.reserveCapacity(8)
        var i = 0
        while wire[i] != 0 {
            let length = Int(wire[i])
            let bytes = wire[(i + 1)...(i + length)].lazy.map { $0 >= 65 && $0 <= 90 ? $0 | 0x20 : $0 }
            labels.append(String(decoding: bytes, as: UTF8.self))
            i += length + 1
        }
        return labels
    }

    func lowercased() -> DNSName {
        DNSName(trustedWire: wire.map { $0 >= 65 && $0 <= 90 ? $0 | 0x20 : $0 })
    }

    /// Case-insensitive equality; length bytes are below 64 so they never fold.
    func equalsIgnoringCase(_ other: DNSName) -> Bool {
        guard wire.count == other.wire.count else { return false }
        for (a, b) in zip(wire, other.wire) where a != b {
            guard a | 0x20 == b | 0x20, (a | 0x20) >= 97, (a | 0x20) <= 122 else { return false }
        }
        return true
    }

    /// Presentation form with the trailing dot; bytes outside printable ASCII, dots and
    /// backslashes inside labels escaped as RFC 1035 5.1 says.
    var description: String {
        if wire == [0] { return "." }
        var text = ""
        var i = 0
        while wire[i] != 0 {
            let length = Int(wire[i])
            for byte in wire[(i + 1)...(i + length)] {
                switch byte {
                case UInt8(ascii: "."), UInt8(ascii: "\\"): text += "\\" + String(UnicodeScalar(byte))
                case 33...126: text.unicodeScalars.append(UnicodeScalar(byte))
                default:
                    let digits = String(byte)
                    text += "\\" + String(repeating: "0", count: 3 - digits.count) + digits
                }
            }
            text += "."
            i += length + 1
        }
        return text
    }
}
