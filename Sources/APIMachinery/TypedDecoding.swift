/// What upstream's decoder refuses before anything else looks at an object: a JSON value whose
/// type cannot become its Go field's (a string where an int32 goes, a number in a map of strings,
/// a quantity that does not parse). Upstream finds these while decoding into its Go structs and
/// answers 400 with encoding/json's words; the field types come from the same table the protobuf
/// reader uses (ProtobufFields), which is those Go structs.
public enum TypedDecoding {
    /// The first mistyped value of `object` read as `message` (`apps.v1.Deployment`), in
    /// encoding/json's words: `json: cannot unmarshal string into Go struct field
    /// DeploymentSpec.spec.replicas of type int32`; nil when every value fits.
    public static func firstError(_ object: JSON, message: String) -> String? {
        firstMismatch(object, message: message)?.message
    }

    /// The first mistyped value, with the Go type it should have been when it was a plain type
    /// error (quantities and times have errors of their own).
    public struct Mismatch: Sendable, Equatable {
        public var message: String
        public var goType: String?
    }

    public static func firstMismatch(_ object: JSON, message: String) -> Mismatch? {
        guard fields[message] != nil, let error = check(object, message: message, path: []) else { return nil }
        let goType = error.hasPrefix("json: cannot unmarshal ") ? error.components(separatedBy: " of type ").last : nil
        return Mismatch(message: error, goType: goType)
    }

    /// Each message's fields by JSON name, with inlined structs' fields in their parent.
    static let fields: [String: [String: ProtobufFields.Field]] = {
        var result: [String: [String: ProtobufFields.Field]] = [:]
        func collect(_ name: String, into table: inout [String: ProtobufFields.Field], depth: Int) {
            guard depth < 8, let message = ProtobufFields.messages[name] else { return }
            for field in message.values {
                if field.inline, case .message(let inner) = field.type {
                    collect(inner, into: &table, depth: depth + 1)
                } else {
                    table[field.name] = field
                }
            }
        }
        for name in ProtobufFields.messages.keys {
            var table: [String: ProtobufFields.Field] = [:]
            collect(name, into: &table, depth: 0)
            result[name] = table
        }
        return result
    }()

    static func check(_ object: JSON, message: String, path: [String]) -> String? {
        guard case .object(let members) = object, let table = fields[message] else { return nil }
        let structName = String(message.split(separator: ".").last ?? "")
        for key in members.keys.sorted() {
            guard let field = table[key], let value = members[key], !value.isNull else { continue }
            let fieldPath = path + [key]
            if field.repeated {
                guard case .array(let items) = value else {
                    return typeError(value, structName, fieldPath, "[]" + goType(field.type))
                }
                for item in items where !item.isNull {
                    if let error = checkValue(item, field.type, structName, fieldPath) { return error }
                }
            } else if let error = checkValue(value, field.type, structName, fieldPath) {
                return error
            }
        }
        return nil
    }

    static func checkValue(_ value: JSON, _ type: ProtobufFields.FieldType, _ structName: String, _ path: [String]) -> String? {
        switch type {
        case .scalar(let scalar):
            return checkScalar(value, scalar, structName, path)
        case .map(_, let valueType):
            guard case .object(let entries) = value else { return typeError(value, structName, path, goType(type)) }
            for key in entries.keys.sorted() {
                guard let entry = entries[key], !entry.isNull else { continue }
                if let error = checkValue(entry, valueType, structName, path) { return error }
            }
            return nil
        case .message(let name):
            switch name {
            case "resource.Quantity":
                if let s = value.string, Quantity.parse(s) != nil { return nil }
                if value.number != nil { return nil }
                return "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
            case "intstr.IntOrString":
                if value.string != nil { return nil }
                return checkScalar(value, .int32, structName, path)
            case "meta.v1.Time", "meta.v1.MicroTime":
                guard let s = value.string else { return typeError(value, structName, path, "string") }
                if APITime.parse(s) == nil {
                    return "parsing time \"\(s)\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"\(s)\" as \"2006\""
                }
                return nil
            case "meta.v1.Duration":
                return value.string == nil ? typeError(value, structName, path, "string") : nil
            case "runtime.RawExtension", "meta.v1.FieldsV1":
                return nil
            default:
                guard case .object = value else { return typeError(value, structName, path, goType(type)) }
                return check(value, message: name, path: path)
            }
        }
    }

    static func checkScalar(_ value: JSON, _ scalar: ProtobufFields.Scalar, _ structName: String, _ path: [String]) -> String? {
        let type = goType(.scalar(scalar))
        switch scalar {
        case .string, .bytes:
            return value.string == nil ? typeError(value, structName, path, type) : nil
        case .bool:
            return value.bool == nil ? typeError(value, structName, path, type) : nil
        case .double, .float:
            return value.number == nil ? typeError(value, structName, path, type) : nil
        case .int32, .int64, .uint32, .uint64:
            guard let n = value.number else { return typeError(value, structName, path, type) }
            let range: ClosedRange<Double> = switch scalar {
            case .int32: -2_147_483_648...2_147_483_647
            case .uint32: 0...4_294_967_295
            case .uint64: 0...1.8446744073709552e19
            default: -9.223372036854776e18...9.223372036854776e18
            }
            if n.rounded() != n || !range.contains(n) {
                let literal = value.int.map(String.init) ?? String(n)
                return "json: cannot unmarshal number \(literal) into Go struct field \(structName).\(path.joined(separator: ".")) of type \(type)"
            }
            return nil
        }
    }

    static func typeError(_ value: JSON, _ structName: String, _ path: [String], _ type: String) -> String {
        "json: cannot unmarshal \(jsonKind(value)) into Go struct field \(structName).\(path.joined(separator: ".")) of type \(type)"
    }

    /// encoding/json's name for what it found.
    static func jsonKind(_ value: JSON) -> String {
        switch value {
        case .string: "string"
        case .int, .double: "number"
        case .bool: "bool"
        case .array: "array"
        case .object: "object"
        case .null: "null"
        }
    }

    /// How Go prints the field's type: `int32`, `[]v1.Container`, `map[string]string`, `v1.PodSpec`.
    static func goType(_ type: ProtobufFields.FieldType) -> String {
        switch type {
        case .scalar(let s):
            switch s {
            case .double: return "float64"
            case .float: return "float32"
            case .bytes: return "[]uint8"
            default: return s.rawValue
            }
        case .map(let key, let value):
            return "map[\(goType(.scalar(key)))]\(goType(value))"
        case .message(let name):
            let parts = name.split(separator: ".")
            // core.v1.PodSpec is Go's v1.PodSpec; resource.Quantity stays as it is.
            return parts.count >= 3 ? parts.dropFirst().joined(separator: ".") : name
        }
    }
}

/// A JSON value as Go's fmt prints the map[string]interface{} it decodes into (`%+v`):
/// `map[spec:map[replicas:3]]`, keys sorted, strings bare.
public enum GoValue {
    public static func render(_ value: JSON) -> String {
        switch value {
        case .null: "<nil>"
        case .bool(let b): String(b)
        case .int(let i): String(i)
        case .double(let d): d == d.rounded() && abs(d) < 1e21 ? String(Int64(d)) : String(d)
        case .string(let s): s
        case .array(let items): "[" + items.map(render).joined(separator: " ") + "]"
        case .object(let members): "map[" + members.keys.sorted().map { "\($0):\(render(members[$0]!))" }.joined(separator: " ") + "]"
        }
    }
}
