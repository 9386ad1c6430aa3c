/// The fields of the Kubernetes protobuf messages: for each message (named `core.v1.Pod`,
/// `meta.v1.ObjectMeta`, ...) its field numbers with their JSON names and types. The data is the
/// generated `table` (ProtobufFieldTable.swift); this file gives it a shape.
public enum ProtobufFields {
    public enum Scalar: String, Sendable {
        case string, bytes, bool, int32, int64, uint32, uint64, double, float
    }

    public indirect enum FieldType: Sendable, Equatable {
        case scalar(Scalar)
        case message(String)
        case map(key: Scalar, value: FieldType)
    }

    public struct Field: Sendable, Equatable {
        public var name: String
        public var type: FieldType
        public var repeated = false
        /// A Go pointer: a zero value was set on purpose and is kept. Go value fields are always
        /// sent, so their zeros mean "unset" and are left out, as Go's omitempty does in JSON.
        public var pointer = false
        /// A Go struct embedded with `json:",inline"`: its fields belong to the parent object.
        public var inline = false
    }

    public typealias Message = [Int: Field]

    /// Every message, parsed from the table on first use.
    public static let messages: [String: Message] = parse(table)

    /// Reads the table: a message name at the start of a line, then its fields indented, as
    /// `NUMBER NAME TYPE [inline]`. A later line for a number already seen replaces it, which is
    /// how fields renamed since the generated part are recorded.
    static func parse(_ text: String) -> [String: Message] {
        var result: [String: Message] = [:]
        var current: String?
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            if line.hasPrefix("#") { continue }
            if line.first != " " {
                current = String(line)
                if result[String(line)] == nil { result[String(line)] = [:] }
                continue
            }
            let parts = line.split(separator: " ")
            guard let message = current, parts.count >= 3, let number = Int(parts[0]) else {
                preconditionFailure("ProtobufFieldTable: malformed line \"\(line)\"")
            }
            var type = Substring(parts[2])
            var field = Field(name: String(parts[1]), type: .scalar(.string))
            if type.hasPrefix("[]") { field.repeated = true; type = type.dropFirst(2) }
            if type.hasSuffix("?") { field.pointer = true; type = type.dropLast() }
            field.type = fieldType(type)
            field.inline = parts.count > 3 && parts[3] == "inline"
            result[message, default: [:]][number] = field
        }
        return result
    }

    private static func fieldType(_ text: Substring) -> FieldType {
        if text.hasPrefix("map<"), text.hasSuffix(">") {
            let inner = text.dropFirst(4).dropLast()
            let kv = inner.split(separator: ",", maxSplits: 1)
            guard kv.count == 2, let key = Scalar(rawValue: String(kv[0])) else {
                preconditionFailure("ProtobufFieldTable: bad map type \(text)")
            }
            return .map(key: key, value: fieldType(kv[1]))
        }
        if let scalar = Scalar(rawValue: String(text)) { return .scalar(scalar) }
        return .message(String(text))
    }
}
