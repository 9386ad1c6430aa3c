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
        guard fields[message] != nil else { return nil }
        // The walk allocates nothing while every value fits; only when one does not is it done
        // again in key order, so the error named among several is always the same.
        var walk = Walk(sorted: false)
        guard walk.object(object, message: message) != nil else { return nil }
        walk = Walk(sorted: true)
        guard let error = walk.object(object, message: message) else { return nil }
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

    /// One walk over an object, keeping the path of JSON names it is at.
    struct Walk {
        let sorted: Bool
        var path: [String] = []

        init(sorted: Bool) { self.sorted = sorted }

        mutating func object(_ object: JSON, message: String) -> String? {
            guard case .object(let members) = object, let table = fields[message] else { return nil }
            if sorted {
                for key in members.keys.sorted() {
                    if let error = member(key, members[key]!, table, message) { return error }
                }
            } else {
                for (key, value) in members {
                    if let error = member(key, value, table, message) { return error }
                }
            }
            return nil
        }

        mutating func member(_ key: String, _ value: JSON, _ table: [String: ProtobufFields.Field], _ message: String) -> String? {
            guard let field = table[key], !value.isNull else { return nil }
            path.append(key)
            defer { path.removeLast() }
            if field.repeated {
                guard case .array(let items) = value else { return typeError(value, message, path, "[]" + goType(field.type)) }
                for item in items where !item.isNull {
                    if let error = self.value(item, field.type, message) { return error }
                }
                return nil
            }
            return self.value(value, field.type, message)
        }

        mutating func value(_ value: JSON, _ type: ProtobufFields.FieldType, _ message: String) -> String? {
            switch type {
            case .scalar(let scalar):
                return checkScalar(value, scalar, message, path)
            case .map(_, let valueType):
                guard case .object(let entries) = value else { return typeError(value, message, path, goType(type)) }
                for entry in entries.values where !entry.isNull {
                    if let error = self.value(entry, valueType, message) { return error }
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
                    return checkScalar(value, .int32, message, path)
                case "meta.v1.Time", "meta.v1.MicroTime":
                    guard let s = value.string else { return typeError(value, message, path, "string") }
                    if APITime.parse(s) == nil {
                        return "parsing time \"\(s)\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"\(s)\" as \"2006\""
                    }
                    return nil
                case "meta.v1.Duration":
                    return value.string == nil ? typeError(value, message, path, "string") : nil
                case "runtime.RawExtension", "meta.v1.FieldsV1":
                    return nil
                default:
                    guard case .object = value else { return typeError(value, message, path, goType(type)) }
                    return object(value, message: name)
                }
            }
        }
    }

    /// A scalar of the right JSON type passes without building anything.
    static func checkScalar(_ value: JSON, _ scalar: ProtobufFields.Scalar, _ message: String, _ path: [String]) -> String? {
        switch (scalar, value) {
        case (.string, .string), (.bytes, .string), (.bool, .bool), (.double, .int), (.double, .double), (.float, .int), (.float, .double),
             (.int64, .int), (.uint64, .int):
            return nil
        case (.int32, .int(let n)) where n >= -2_147_483_648 && n <= 2_147_483_647: return nil
        case (.uint32, .int(let n)) where n >= 0 && n <= 4_294_967_295: return nil
        case (.int32, .int(let n)), (.uint32, .int(let n)):
            return numberError(String(n), message, path, scalar)
        case (.int32, .double(let d)), (.int64, .double(let d)), (.uint32, .double(let d)), (.uint64, .double(let d)):
            let range: ClosedRange<Double> = switch scalar {
            case .int32: -2_147_483_648...2_147_483_647
            case .uint32: 0...4_294_967_295
            case .uint64: 0...1.8446744073709552e19
            default: -9.223372036854776e18...9.223372036854776e18
            }
            return d.rounded() == d && range.contains(d) ? nil : numberError(String(d), message, path, scalar)
        default:
            return typeError(value, message, path, goType(.scalar(scalar)))
        }
    }

    /// A number that does not fit the integer it is for: encoding/json names the number.
    static func numberError(_ literal: String, _ message: String, _ path: [String], _ scalar: ProtobufFields.Scalar) -> String {
        "json: cannot unmarshal number \(literal) into Go struct field \(structName(message)).\(path.joined(separator: ".")) of type \(goType(.scalar(scalar)))"
    }

    /// The Go struct's name: the message's last part.
    static func structName(_ message: String) -> String { message.split(separator: ".").last.map(String.init) ?? message }

    static func typeError(_ value: JSON, _ message: String, _ path: [String], _ type: String) -> String {
        "json: cannot unmarshal \(jsonKind(value)) into Go struct field \(structName(message)).\(path.joined(separator: ".")) of type \(type)"
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
