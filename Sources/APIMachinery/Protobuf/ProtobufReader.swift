/// Reads the protobuf wire format: varints, fixed-width numbers and length-delimited fields.
/// Every read is bounds-checked, so a truncated or hostile body is an error, never a crash.
struct ProtobufReader {
    enum WireType: UInt64 {
        case varint = 0, fixed64 = 1, lengthDelimited = 2, startGroup = 3, endGroup = 4, fixed32 = 5
    }

    struct Malformed: Error {
        let reason: String
    }

    let bytes: [UInt8]
    private(set) var index: Int
    let end: Int

    init(_ bytes: [UInt8], _ range: Range<Int>) {
        self.bytes = bytes
        self.index = range.lowerBound
        self.end = range.upperBound
    }

    var atEnd: Bool { index >= end }

    /// The next field's number and wire type, or nil at the end of the message.
    mutating func nextField() throws(Malformed) -> (number: Int, wire: WireType)? {
        if atEnd { return nil }
        let key = try varint()
        guard let wire = WireType(rawValue: key & 7) else { throw Malformed(reason: "unknown wire type \(key & 7)") }
        let number = key >> 3
        guard number > 0, number < 1 << 29 else { throw Malformed(reason: "invalid field number \(number)") }
        return (Int(number), wire)
    }

    mutating func varint() throws(Malformed) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard index < end else { throw Malformed(reason: "unexpected end of varint") }
            let byte = bytes[index]
            index += 1
            guard shift < 64 else { throw Malformed(reason: "varint overflow") }
            result |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    mutating func fixed64() throws(Malformed) -> UInt64 {
        guard end - index >= 8 else { throw Malformed(reason: "unexpected end of fixed64") }
        var v: UInt64 = 0
        for i in (0..<8).reversed() { v = v << 8 | UInt64(bytes[index + i]) }
        index += 8
        return v
    }

    mutating func fixed32() throws(Malformed) -> UInt32 {
        guard end - index >= 4 else { throw Malformed(reason: "unexpected end of fixed32") }
        var v: UInt32 = 0
        for i in (0..<4).reversed() { v = v << 8 | UInt32(bytes[index + i]) }
        index += 4
        return v
    }

    /// The byte range of a length-delimited field (a string, bytes, message or packed list).
    mutating func lengthDelimited() throws(Malformed) -> Range<Int> {
        let length = try varint()
        guard length <= UInt64(end - index) else { throw Malformed(reason: "length \(length) runs past the end") }
        let start = index
        index += Int(length)
        return start..<index
    }

    mutating func skip(_ wire: WireType) throws(Malformed) {
        switch wire {
        case .varint: _ = try varint()
        case .fixed64: _ = try fixed64()
        case .fixed32: _ = try fixed32()
        case .lengthDelimited: _ = try lengthDelimited()
        case .startGroup, .endGroup: throw Malformed(reason: "groups are not used by Kubernetes")
        }
    }
}
