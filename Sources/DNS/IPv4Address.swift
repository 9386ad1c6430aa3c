/// An IPv4 address as one number: what the index keys reverse lookups by and what A records carry.
struct IPv4Address: Hashable, Sendable, Comparable, CustomStringConvertible {
    let value: UInt32

    init(_ value: UInt32) { self.value = value }

    init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        value = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }

    /// Dotted quad, strictly: four decimal octets without leading zeros (as Go's net.ParseIP,
    /// which decides what CoreDNS accepts in pod names).
    init?(_ text: some StringProtocol, separator: UInt8 = UInt8(ascii: ".")) {
        var octets: [UInt32] = []
        octets.reserveCapacity(4)
        var current: UInt32 = 0, digits = 0, leadingZero = false
        for byte in text.utf8 {
            if byte == separator {
                guard digits > 0 else { return nil }
                octets.append(current)
                current = 0; digits = 0; leadingZero = false
                continue
            }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9"), !leadingZero else { return nil }
            if digits == 0, byte == UInt8(ascii: "0") { leadingZero = true }
            current = current * 10 + UInt32(byte - UInt8(ascii: "0"))
            digits += 1
            guard current <= 255 else { return nil }
        }
        guard digits > 0 else { return nil }
        octets.append(current)
        guard octets.count == 4 else { return nil }
        value = octets[0] << 24 | octets[1] << 16 | octets[2] << 8 | octets[3]
    }

    var bytes: [UInt8] { [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)] }

    var description: String { bytes.map(String.init).joined(separator: ".") }

    /// `10-244-0-5`: how the DNS spec names an address as a single label.
    var dashed: String { bytes.map(String.init).joined(separator: "-") }

    static func < (lhs: Self, rhs: Self) -> Bool { lhs.value < rhs.value }
}
