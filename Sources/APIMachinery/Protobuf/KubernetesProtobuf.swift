import Foundation

/// Reads the protobuf bodies typed Kubernetes clients send (kubectl's `create namespace`,
/// `create deployment`, typed DeleteOptions, client-go with protobuf content type) into the JSON
/// tree every other layer works on, as upstream's protobuf serializer feeds its decoder.
///
/// A body is the magic `k8s\0` and a runtime.Unknown: typeMeta {apiVersion, kind}, raw (the
/// object's own message). Fields are named from ProtobufFields; the few types with their own JSON
/// form (times, quantities, int-or-string, raw JSON) are converted as Go's JSON encoder writes them.
public enum KubernetesProtobuf {
    public static let mediaType = "application/vnd.kubernetes.protobuf"
    static let magic: [UInt8] = [0x6b, 0x38, 0x73, 0x00]
    static let maxDepth = 100

    public enum DecodeError: Error, Equatable {
        /// Not a Kubernetes protobuf body, or a broken one.
        case malformed(String)
        /// A kind with no protobuf form here (custom resources are JSON-only, as upstream).
        case unknownType(apiVersion: String, kind: String)
    }

    public static func decode(_ bytes: [UInt8]) throws(DecodeError) -> JSON {
        guard bytes.count >= 4, Array(bytes[0..<4]) == magic else {
            throw .malformed("the body does not start with the Kubernetes protobuf prefix")
        }
        do {
            var apiVersion = "", kind = ""
            var raw: Range<Int> = 0..<0
            var envelope = ProtobufReader(bytes, 4..<bytes.count)
            while let (number, wire) = try envelope.nextField() {
                switch (number, wire) {
                case (1, .lengthDelimited):  // typeMeta
                    var meta = ProtobufReader(bytes, try envelope.lengthDelimited())
                    while let (n, w) = try meta.nextField() {
                        switch (n, w) {
                        case (1, .lengthDelimited): apiVersion = string(bytes, try meta.lengthDelimited())
                        case (2, .lengthDelimited): kind = string(bytes, try meta.lengthDelimited())
                        default: try meta.skip(w)
                        }
                    }
                case (2, .lengthDelimited): raw = try envelope.lengthDelimited()
                default: try envelope.skip(wire)
                }
            }
            guard let message = messageName(apiVersion: apiVersion, kind: kind) else {
                throw DecodeError.unknownType(apiVersion: apiVersion, kind: kind)
            }
            var object = try decodeMessage(message, bytes, raw, depth: 0)
            object["apiVersion"] = .string(apiVersion)
            object["kind"] = .string(kind)
            return object
        } catch let error as DecodeError {
            throw error
        } catch let error as ProtobufReader.Malformed {
            throw .malformed(error.reason)
        } catch {
            throw .malformed("\(error)")
        }
    }

    /// `apps/v1` + `Deployment` → `apps.v1.Deployment`: the package is the group's first label.
    /// DeleteOptions is sent under whichever group the client was talking to.
    static func messageName(apiVersion: String, kind: String) -> String? {
        if kind == "DeleteOptions" { return "meta.v1.DeleteOptions" }
        guard let gv = GroupVersion(apiVersion: apiVersion) else { return nil }
        let package = gv.group.isEmpty ? "core" : String(gv.group.prefix { $0 != "." })
        let name = "\(package).\(gv.version).\(kind)"
        return ProtobufFields.messages[name] == nil ? nil : name
    }

    // MARK: messages

    private static func decodeMessage(_ name: String, _ bytes: [UInt8], _ range: Range<Int>, depth: Int) throws -> JSON {
        guard depth < maxDepth else { throw DecodeError.malformed("nesting deeper than \(maxDepth)") }
        if let special = specialTypes[name] { return try special(bytes, range) }
        guard let fields = ProtobufFields.messages[name] else {
            throw DecodeError.malformed("no protobuf fields known for \(name)")
        }
        var object: [String: JSON] = [:]
        var lists: [String: [JSON]] = [:]
        var maps: [String: [String: JSON]] = [:]
        var reader = ProtobufReader(bytes, range)
        while let (number, wire) = try reader.nextField() {
            guard let field = fields[number] else { try reader.skip(wire); continue }
            switch field.type {
            case .map(let keyType, let valueType):
                guard wire == .lengthDelimited else { throw DecodeError.malformed("\(name).\(field.name): a map entry must be length-delimited") }
                let (key, value) = try decodeMapEntry(keyType, valueType, bytes, try reader.lengthDelimited(), depth: depth)
                maps[field.name, default: [:]][key] = value
            case .message(let target):
                guard wire == .lengthDelimited else { throw DecodeError.malformed("\(name).\(field.name): a message must be length-delimited") }
                let value = try decodeMessage(target, bytes, try reader.lengthDelimited(), depth: depth + 1)
                if field.repeated {
                    lists[field.name, default: []].append(value)
                } else if field.inline, case .object(let members) = value {
                    object.merge(members) { _, new in new }
                } else if !value.isNull {
                    object[field.name] = value
                }
            case .scalar(let scalar):
                if field.repeated {
                    if wire == .lengthDelimited, scalar != .string, scalar != .bytes {
                        // A packed list of numbers.
                        var packed = ProtobufReader(bytes, try reader.lengthDelimited())
                        while !packed.atEnd { lists[field.name, default: []].append(try decodeScalar(scalar, wire: packedWire(scalar), &packed)) }
                    } else {
                        lists[field.name, default: []].append(try decodeScalar(scalar, wire: wire, &reader))
                    }
                } else {
                    let value = try decodeScalar(scalar, wire: wire, &reader)
                    if field.pointer || !isZero(value) { object[field.name] = value }
                }
            }
        }
        for (key, items) in lists { object[key] = .array(items) }
        for (key, entries) in maps { object[key] = .object(entries) }
        return .object(object)
    }

    private static func decodeMapEntry(_ keyType: ProtobufFields.Scalar, _ valueType: ProtobufFields.FieldType,
                                       _ bytes: [UInt8], _ range: Range<Int>, depth: Int) throws -> (String, JSON) {
        var key = ""
        var value: JSON?
        var reader = ProtobufReader(bytes, range)
        while let (number, wire) = try reader.nextField() {
            switch number {
            case 1:
                let k = try decodeScalar(keyType, wire: wire, &reader)
                key = k.string ?? k.int.map(String.init) ?? ""
            case 2:
                switch valueType {
                case .scalar(let s): value = try decodeScalar(s, wire: wire, &reader)
                case .message(let m): value = try decodeMessage(m, bytes, try reader.lengthDelimited(), depth: depth + 1)
                case .map: throw DecodeError.malformed("maps of maps are not used by Kubernetes")
                }
            default: try reader.skip(wire)
            }
        }
        if let value { return (key, value) }
        // An entry without a value holds the zero value of its type.
        switch valueType {
        case .scalar(.string), .scalar(.bytes): return (key, .string(""))
        case .scalar(.bool): return (key, .bool(false))
        case .scalar: return (key, .int(0))
        case .message(let m): return (key, try decodeMessage(m, bytes, 0..<0, depth: depth + 1))
        case .map: return (key, .emptyObject)
        }
    }

    // MARK: scalars

    private static func packedWire(_ scalar: ProtobufFields.Scalar) -> ProtobufReader.WireType {
        switch scalar {
        case .double: return .fixed64
        case .float: return .fixed32
        default: return .varint
        }
    }

    private static func decodeScalar(_ scalar: ProtobufFields.Scalar, wire: ProtobufReader.WireType,
                                     _ reader: inout ProtobufReader) throws -> JSON {
        switch (scalar, wire) {
        case (.string, .lengthDelimited): return .string(string(reader.bytes, try reader.lengthDelimited()))
        case (.bytes, .lengthDelimited):
            return .string(Data(reader.bytes[try reader.lengthDelimited()]).base64EncodedString())
        case (.bool, .varint): return .bool(try reader.varint() != 0)
        case (.int32, .varint): return .int(Int64(Int32(truncatingIfNeeded: try reader.varint())))
        case (.int64, .varint): return .int(Int64(bitPattern: try reader.varint()))
        case (.uint32, .varint): return .int(Int64(UInt32(truncatingIfNeeded: try reader.varint())))
        case (.uint64, .varint): return .int(Int64(clamping: try reader.varint()))
        case (.double, .fixed64): return .double(Double(bitPattern: try reader.fixed64()))
        case (.float, .fixed32): return .double(Double(Float(bitPattern: try reader.fixed32())))
        default: throw DecodeError.malformed("a \(scalar.rawValue) field sent with wire type \(wire.rawValue)")
        }
    }

    private static func isZero(_ value: JSON) -> Bool {
        switch value {
        case .string(let s): return s.isEmpty
        case .int(let i): return i == 0
        case .double(let d): return d == 0
        case .bool(let b): return !b
        default: return false
        }
    }

    static func string(_ bytes: [UInt8], _ range: Range<Int>) -> String {
        String(decoding: bytes[range], as: UTF8.self)
    }

    // MARK: types with their own JSON form

    private typealias SpecialType = @Sendable ([UInt8], Range<Int>) throws -> JSON

    static var specialTypeNames: Set<String> { Set(specialTypes.keys) }

    private static let specialTypes: [String: SpecialType] = [
        "meta.v1.Time": { bytes, range in try timestamp(bytes, range, micro: false) },
        "meta.v1.MicroTime": { bytes, range in try timestamp(bytes, range, micro: true) },
        "meta.v1.Duration": { bytes, range in
            let nanos = try scalarFields(bytes, range)[1].map { Int64(bitPattern: $0) } ?? 0
            return .string(goDuration(nanos))
        },
        "resource.Quantity": { bytes, range in .string(try stringField(bytes, range)) },
        "intstr.IntOrString": { bytes, range in
            var type: UInt64 = 0, intVal: Int64 = 0, strVal = ""
            var reader = ProtobufReader(bytes, range)
            while let (number, wire) = try reader.nextField() {
                switch (number, wire) {
                case (1, .varint): type = try reader.varint()
                case (2, .varint): intVal = Int64(Int32(truncatingIfNeeded: try reader.varint()))
                case (3, .lengthDelimited): strVal = string(bytes, try reader.lengthDelimited())
                default: try reader.skip(wire)
                }
            }
            return type == 1 ? .string(strVal) : .int(intVal)
        },
        // Embedded JSON: RawExtension (runtime.RawExtension's raw) and FieldsV1 (managedFields).
        "runtime.RawExtension": { bytes, range in try rawJSON(bytes, range) },
        "meta.v1.FieldsV1": { bytes, range in try rawJSON(bytes, range) },
        "meta.v1.Verbs": { bytes, range in
            var items: [JSON] = []
            var reader = ProtobufReader(bytes, range)
            while let (number, wire) = try reader.nextField() {
                if number == 1, wire == .lengthDelimited { items.append(.string(string(bytes, try reader.lengthDelimited()))) } else { try reader.skip(wire) }
            }
            return .array(items)
        },
    ]

    /// Varint fields of a small message by number (Time, Duration).
    private static func scalarFields(_ bytes: [UInt8], _ range: Range<Int>) throws -> [Int: UInt64] {
        var result: [Int: UInt64] = [:]
        var reader = ProtobufReader(bytes, range)
        while let (number, wire) = try reader.nextField() {
            if wire == .varint { result[number] = try reader.varint() } else { try reader.skip(wire) }
        }
        return result
    }

    private static func stringField(_ bytes: [UInt8], _ range: Range<Int>) throws -> String {
        var reader = ProtobufReader(bytes, range)
        var value = ""
        while let (number, wire) = try reader.nextField() {
            if number == 1, wire == .lengthDelimited { value = string(bytes, try reader.lengthDelimited()) } else { try reader.skip(wire) }
        }
        return value
    }

    /// A Time that was never set travels as an empty message and is null in JSON.
    private static func timestamp(_ bytes: [UInt8], _ range: Range<Int>, micro: Bool) throws -> JSON {
        let fields = try scalarFields(bytes, range)
        guard fields[1] != nil || fields[2] != nil else { return .null }
        let seconds = Int64(bitPattern: fields[1] ?? 0)
        guard micro else { return .string(APITime.formatUnix(seconds)) }
        let micros = Int64(Int32(truncatingIfNeeded: fields[2] ?? 0)) / 1000
        return .string(String(APITime.formatUnix(seconds).dropLast()) + "." + String(format: "%06lld", micros) + "Z")
    }

    private static func rawJSON(_ bytes: [UInt8], _ range: Range<Int>) throws -> JSON {
        var reader = ProtobufReader(bytes, range)
        var raw: Range<Int> = 0..<0
        while let (number, wire) = try reader.nextField() {
            if number == 1, wire == .lengthDelimited { raw = try reader.lengthDelimited() } else { try reader.skip(wire) }
        }
        if raw.isEmpty { return .null }
        do { return try JSON.parse(Array(bytes[raw])) } catch {
            throw DecodeError.malformed("embedded JSON: \(error.message)")
        }
    }

    /// Go's time.Duration.String(): "1h2m3.5s", "1.5s", "250ms", "0s".
    static func goDuration(_ nanos: Int64) -> String {
        if nanos == 0 { return "0s" }
        let sign = nanos < 0 ? "-" : ""
        let n = nanos.magnitude
        func fraction(_ value: UInt64, _ digits: Int) -> String {
            var text = String(value)
            text = String(repeating: "0", count: max(0, digits - text.count)) + text
            while text.hasSuffix("0") { text.removeLast() }
            return text.isEmpty ? "" : "." + text
        }
        if n < 1_000 { return sign + "\(n)ns" }
        if n < 1_000_000 { return sign + "\(n / 1_000)" + fraction(n % 1_000, 3) + "µs" }
        if n < 1_000_000_000 { return sign + "\(n / 1_000_000)" + fraction(n % 1_000_000, 6) + "ms" }
        let totalSeconds = n / 1_000_000_000
        let seconds = "\(totalSeconds % 60)" + fraction(n % 1_000_000_000, 9) + "s"
        let minutes = totalSeconds / 60
        if minutes == 0 { return sign + seconds }
        if minutes < 60 { return sign + "\(minutes)m" + seconds }
        return sign + "\(minutes / 60)h\(minutes % 60)m" + seconds
    }
}
