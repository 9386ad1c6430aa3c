/// A JSON tree: how every object is held (DESIGN rule 2). The server stores and serves what the
/// client sent; typed views exist only where code reads particular fields.
public enum JSON: Sendable, Equatable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSON])
    case object([String: JSON])

    public static let emptyObject = JSON.object([:])

    public var isNull: Bool { if case .null = self { return true } else { return false } }
    public var string: String? { if case .string(let s) = self { return s } else { return nil } }
    public var bool: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    public var array: [JSON]? { if case .array(let a) = self { return a } else { return nil } }
    public var object: [String: JSON]? { if case .object(let o) = self { return o } else { return nil } }
    public var int: Int64? {
        switch self {
        case .int(let i): return i
        case .double(let d) where d == d.rounded() && abs(d) < 9.2e18: return Int64(d)
        default: return nil
        }
    }
    public var number: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }

    /// Member access; reading a missing member (or a member of a non-object) gives `.null`.
    /// Writing `.null` removes the member; writing into a non-object makes it an object.
    public subscript(key: String) -> JSON {
        get {
            if case .object(let o) = self { return o[key] ?? .null }
            return .null
        }
        set {
            var o = takeObject() ?? [:]  // the old storage released, so the dictionary changes in place
            if newValue.isNull { o.removeValue(forKey: key) } else { o[key] = newValue }
            self = .object(o)
        }
        // `json["a"]["b"] = v` changes the member where it lives: without this the getter's copy
        // of "a" would be changed (copying all its members) and set back, once per write.
        _modify {
            var o = takeObject() ?? [:]
            defer {
                if o[key]?.isNull == true { o.removeValue(forKey: key) }
                self = .object(o)
            }
            yield &o[key, default: .null]
        }
    }

    /// Moves the members out, leaving null: changed, they are the only copy, so nothing is copied.
    public mutating func takeObject() -> [String: JSON]? {
        guard case .object(let o) = self else { return nil }
        self = .null
        return o
    }

    /// Moves the items out, leaving null (see `takeObject`).
    public mutating func takeArray() -> [JSON]? {
        guard case .array(let a) = self else { return nil }
        self = .null
        return a
    }

    public subscript(index: Int) -> JSON {
        if case .array(let a) = self, index >= 0, index < a.count { return a[index] }
        return .null
    }

    /// Reads a dotted path of member names.
    public subscript(path path: [String]) -> JSON {
        get {
            var node = self
            for key in path { node = node[key] }
            return node
        }
        set {
            guard let first = path.first else { self = newValue; return }
            var child = self[first]
            child[path: Array(path.dropFirst())] = newValue
            if newValue.isNull, case .object(let o) = child, o.isEmpty, path.count > 1 {
                // leave the emptied parent as it is; upstream keeps `{}` too
            }
            self[first] = child
        }
    }

    /// Whether the value is absent or empty in the sense Go's `omitempty` uses.
    public var isEmptyValue: Bool {
        switch self {
        case .null: return true
        case .string(let s): return s.isEmpty
        case .array(let a): return a.isEmpty
        case .object(let o): return o.isEmpty
        case .bool(let b): return !b
        case .int(let i): return i == 0
        case .double(let d): return d == 0
        }
    }
}

extension JSON: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral, ExpressibleByFloatLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSON...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSON)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
    public init(nilLiteral: ()) { self = .null }
    public init(floatLiteral value: Double) { self = .double(value) }
}

extension JSON {
    public init(_ strings: [String: String]) { self = .object(strings.mapValues { .string($0) }) }
    /// A string map (labels, annotations, data) as Swift; non-string members are skipped.
    public var stringMap: [String: String] {
        guard case .object(let o) = self else { return [:] }
        var result: [String: String] = [:]
        result.reserveCapacity(o.count)
        for (k, v) in o { if case .string(let s) = v { result[k] = s } }
        return result
    }
}
