import APIMachinery
import Foundation

/// A CEL value. Errors are values too, as in cel-go: they flow through the expression until an
/// operator that can absorb them (`&&`, `||`, the ternary) decides without them.
public enum CELValue: Sendable {
    case int(Int64)
    case uint(UInt64)
    case double(Double)
    case string(String)
    case bytes([UInt8])
    case bool(Bool)
    case null
    case list([CELValue])
    /// Keys in insertion order (a JSON object's), looked up by equality.
    case map([(key: CELValue, value: CELValue)])
    case type(String)
    /// Nanoseconds, as Go's time.Duration.
    case duration(Int64)
    case timestamp(CELTimestamp)
    case error(String)
    /// A value of one of Kubernetes' CEL types (kubernetes.Quantity, net.URL, net.IP, net.CIDR),
    /// kept as the text it was made from.
    case opaque(type: String, value: String)

    public var typeName: String {
        switch self {
        case .int: return "int"
        case .uint: return "uint"
        case .double: return "double"
        case .string: return "string"
        case .bytes: return "bytes"
        case .bool: return "bool"
        case .null: return "null_type"
        case .list: return "list"
        case .map: return "map"
        case .type: return "type"
        case .duration: return "google.protobuf.Duration"
        case .timestamp: return "google.protobuf.Timestamp"
        case .error: return "error"
        case .opaque(let type, _): return type
        }
    }

    public var isError: Bool { if case .error = self { return true } else { return false } }

    static func noOverload(_ function: String, _ args: [CELValue]) -> CELValue {
        if let error = args.first(where: \.isError) { return error }
        return .error("no such overload: \(function)(\(args.map(\.typeName).joined(separator: ", ")))")
    }

    // MARK: JSON

    /// A JSON value as CEL sees it; `schema` (OpenAPI) decides what a JSON number is (an integer
    /// field is an int, a number field a double), as Kubernetes' CEL types from the schema.
    public static func from(_ json: JSON, schema: JSON = .null) -> CELValue {
        switch json {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .int(let i): return schema["type"].string == "number" ? .double(Double(i)) : .int(i)
        case .double(let d):
            if schema["type"].string == "integer", d.rounded() == d, abs(d) < 9.2e18 { return .int(Int64(d)) }
            return .double(d)
        case .string(let s):
            if schema["x-kubernetes-int-or-string"] == true { return .string(s) }
            switch schema["format"].string {
            case "byte": return .bytes(Array(Data(base64Encoded: s) ?? Data(s.utf8)))
            case "date-time": return CELTimestamp.parse(s).map { .timestamp($0) } ?? .string(s)
            case "duration": return CELDuration.parse(s).map { .duration($0) } ?? .string(s)
            default: return .string(s)
            }
        case .array(let a): return .list(a.map { from($0, schema: schema["items"]) })
        case .object(let o):
            return .map(o.map { key, value in
                let child = schema["properties"][key].isNull ? schema["additionalProperties"] : schema["properties"][key]
                return (.string(key), from(value, schema: child))
            })
        default: return .null
        }
    }

    // MARK: equality and ordering

    /// CEL's equality: numbers compare across int, uint and double; lists and maps compare deeply;
    /// values of different types are unequal.
    public static func equal(_ a: CELValue, _ b: CELValue) -> Bool {
        switch (a, b) {
        case (.int(let x), .int(let y)): return x == y
        case (.uint(let x), .uint(let y)): return x == y
        case (.double(let x), .double(let y)): return x == y
        case (.int, .uint), (.int, .double), (.uint, .int), (.uint, .double), (.double, .int), (.double, .uint):
            return compareNumbers(a, b) == 0
        // Code points, not Swift's canonical equivalence: "é" and "e\u{301}" differ in CEL.
        case (.string(let x), .string(let y)): return x.utf8.elementsEqual(y.utf8)
        case (.bytes(let x), .bytes(let y)): return x == y
        case (.bool(let x), .bool(let y)): return x == y
        case (.null, .null): return true
        case (.type(let x), .type(let y)): return x == y
        case (.duration(let x), .duration(let y)): return x == y
        case (.timestamp(let x), .timestamp(let y)): return x == y
        case (.opaque(let t, let x), .opaque(let u, let y)):
            guard t == u else { return false }
            if t == KubernetesLibrary.quantityType { return KubernetesLibrary.quantity(x) == KubernetesLibrary.quantity(y) }
            return x == y
        case (.list(let x), .list(let y)): return x.count == y.count && zip(x, y).allSatisfy { equal($0, $1) }
        case (.map(let x), .map(let y)):
            return x.count == y.count && x.allSatisfy { entry in y.first { equal($0.key, entry.key) }.map { equal($0.value, entry.value) } ?? false }
        default: return false
        }
    }

    /// -1, 0 or 1 for two numbers of any numeric types; nil if either is NaN.
    static func compareNumbers(_ a: CELValue, _ b: CELValue) -> Int? {
        switch (a, b) {
        case (.int(let x), .int(let y)): return x < y ? -1 : x > y ? 1 : 0
        case (.uint(let x), .uint(let y)): return x < y ? -1 : x > y ? 1 : 0
        case (.int(let x), .uint(let y)): return x < 0 ? -1 : UInt64(x) < y ? -1 : UInt64(x) > y ? 1 : 0
        case (.uint, .int): return compareNumbers(b, a).map { -$0 }
        default:
            guard let x = a.asDouble, let y = b.asDouble, !x.isNaN, !y.isNaN else { return nil }
            return x < y ? -1 : x > y ? 1 : 0
        }
    }

    var asDouble: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .uint(let u): return Double(u)
        case .double(let d): return d
        default: return nil
        }
    }

    /// The ordering `<` and friends use; nil when the two cannot be ordered.
    static func compare(_ a: CELValue, _ b: CELValue) -> Int? {
        switch (a, b) {
        case (.string(let x), .string(let y)):
            return x.utf8.lexicographicallyPrecedes(y.utf8) ? -1 : x.utf8.elementsEqual(y.utf8) ? 0 : 1
        case (.bytes(let x), .bytes(let y)): return x.lexicographicallyPrecedes(y) ? -1 : x == y ? 0 : 1
        case (.bool(let x), .bool(let y)): return x == y ? 0 : (!x ? -1 : 1)
        case (.duration(let x), .duration(let y)): return x < y ? -1 : x > y ? 1 : 0
        case (.timestamp(let x), .timestamp(let y)): return x < y ? -1 : x > y ? 1 : 0
        default: return compareNumbers(a, b)
        }
    }

    /// The value as JSON (a mutation's result): durations and timestamps as upstream writes them.
    public var json: JSON {
        switch self {
        case .int(let i): return .int(i)
        case .uint(let u): return u <= UInt64(Int64.max) ? .int(Int64(u)) : .double(Double(u))
        case .double(let d): return .double(d)
        case .string(let s): return .string(s)
        case .bytes(let b): return .string(Data(b).base64EncodedString())
        case .bool(let b): return .bool(b)
        case .null, .error: return .null
        case .opaque(_, let value): return .string(value)
        case .list(let l): return .array(l.map(\.json))
        case .map(let m): return .object(Dictionary(m.map { ($0.key.text, $0.value.json) }) { a, _ in a })
        case .type(let t): return .string(t)
        case .duration: return .string(text)
        case .timestamp(let t): return .string(t.rfc3339)
        }
    }

    /// How the value reads in a message (messageExpression results, error texts).
    public var text: String {
        switch self {
        case .int(let i): return String(i)
        case .uint(let u): return String(u)
        case .double(let d): return d == d.rounded() && abs(d) < 1e15 ? String(format: "%.0f", d) : String(d)
        case .string(let s): return s
        case .bytes(let b): return String(decoding: b, as: UTF8.self)
        case .bool(let b): return String(b)
        case .null: return "null"
        case .list(let l): return "[" + l.map(\.text).joined(separator: ", ") + "]"
        case .map(let m): return "{" + m.map { "\($0.key.text): \($0.value.text)" }.joined(separator: ", ") + "}"
        case .type(let t): return t
        case .duration(let d): return CELDuration.format(d)
        case .timestamp(let t): return t.rfc3339
        case .error(let e): return e
        case .opaque(_, let value): return value
        }
    }
}
