/// A label selector in its string form (`app=web,tier!=db,env in (a,b),!legacy`), as the
/// `labelSelector` query parameter carries it, and in its structured form (matchLabels,
/// matchExpressions), as objects carry it.
public struct LabelSelector: Sendable, Equatable, CustomStringConvertible {
    public enum Operator: String, Sendable {
        case equals = "=", notEquals = "!=", `in` = "in", notIn = "notin", exists = "exists", doesNotExist = "!"
        case greaterThan = "gt", lessThan = "lt"
    }

    public struct Requirement: Sendable, Equatable {
        public var key: String
        public var op: Operator
        public var values: [String]

        public func matches(_ labels: [String: String]) -> Bool { matches(value: labels[key]) }

        func matches(value: String?) -> Bool {
            switch op {
            case .equals: return value == values.first
            case .notEquals: return value != values.first
            case .in: return value.map(values.contains) ?? false
            case .notIn: return value.map { !values.contains($0) } ?? true
            case .exists: return value != nil
            case .doesNotExist: return value == nil
            case .greaterThan, .lessThan:
                guard let v = value.flatMap(Int64.init), let bound = values.first.flatMap(Int64.init) else { return false }
                return op == .greaterThan ? v > bound : v < bound
            }
        }
    }

    public var requirements: [Requirement]

    public init(requirements: [Requirement] = []) { self.requirements = requirements }

    public static let everything = LabelSelector()
    /// Matches nothing: how an empty structured selector behaves where upstream says so.
    public static let nothing = LabelSelector(requirements: [Requirement(key: "", op: .in, values: [])])

    public var isEverything: Bool { requirements.isEmpty }

    public func matches(_ labels: [String: String]) -> Bool {
        requirements.allSatisfy { $0.matches(labels) }
    }

    /// An object's `metadata.labels` as it is, without building a dictionary first: controllers
    /// test thousands of pods at each sync.
    public func matches(labels: JSON) -> Bool {
        requirements.allSatisfy { $0.matches(value: labels[$0.key].string) }
    }

    public var description: String {
        requirements.map { r in
            switch r.op {
            case .equals, .notEquals: return "\(r.key)\(r.op.rawValue)\(r.values.first ?? "")"
            case .in, .notIn: return "\(r.key) \(r.op.rawValue) (\(r.values.joined(separator: ",")))"
            case .exists: return r.key
            case .doesNotExist: return "!\(r.key)"
            case .greaterThan: return "\(r.key)>\(r.values.first ?? "")"
            case .lessThan: return "\(r.key)<\(r.values.first ?? "")"
            }
        }.joined(separator: ",")
    }

    /// Parses the string form; the error text is what the API answers with a 400.
    public static func parse(_ text: String) throws(StatusError) -> LabelSelector {
        var scanner = SelectorScanner(Array(text.unicodeScalars))
        var requirements: [Requirement] = []
        scanner.skipSpaces()
        if scanner.atEnd { return LabelSelector() }
        while true {
            requirements.append(try scanner.requirement(in: text))
            scanner.skipSpaces()
            if scanner.atEnd { break }
            guard scanner.take(",") else {
                throw StatusError.badRequest("unable to parse requirement: found '\(scanner.rest)', expected: ',' or 'end of string'")
            }
        }
        return LabelSelector(requirements: requirements)
    }

    /// The structured form (matchLabels + matchExpressions). A nil or empty selector matches
    /// everything, as for list filters; controllers that need "nothing" check emptiness themselves.
    public static func fromStructured(_ json: JSON) throws(StatusError) -> LabelSelector {
        var reqs: [Requirement] = []
        for (k, v) in json["matchLabels"].stringMap.sorted(by: { $0.key < $1.key }) {
            reqs.append(Requirement(key: k, op: .equals, values: [v]))
        }
        for expr in json["matchExpressions"].array ?? [] {
            let key = expr["key"].string ?? ""
            let values = (expr["values"].array ?? []).compactMap(\.string)
            let op: Operator
            switch expr["operator"].string ?? "" {
            case "In": op = .in
            case "NotIn": op = .notIn
            case "Exists": op = .exists
            case "DoesNotExist": op = .doesNotExist
            case let other: throw StatusError.badRequest("\"\(other)\" is not a valid label selector operator")
            }
            reqs.append(Requirement(key: key, op: op, values: values))
        }
        return LabelSelector(requirements: reqs)
    }
}

struct SelectorScanner {
    let chars: [Unicode.Scalar]
    var i = 0
    init(_ chars: [Unicode.Scalar]) { self.chars = chars }

    var atEnd: Bool { i >= chars.count }
    var rest: String { String(String.UnicodeScalarView(chars[min(i, chars.count)...])) }

    mutating func skipSpaces() { while i < chars.count, chars[i] == " " || chars[i] == "\t" { i += 1 } }

    mutating func take(_ s: String) -> Bool {
        let scalars = Array(s.unicodeScalars)
        guard i + scalars.count <= chars.count, Array(chars[i..<i + scalars.count]) == scalars else { return false }
        i += scalars.count
        return true
    }

    static func isWordChar(_ c: Unicode.Scalar) -> Bool {
        !(c == " " || c == "\t" || c == "," || c == "=" || c == "!" || c == "(" || c == ")" || c == "<" || c == ">")
    }

    mutating func word() -> String {
        let start = i
        while i < chars.count, Self.isWordChar(chars[i]) { i += 1 }
        return String(String.UnicodeScalarView(chars[start..<i]))
    }

    mutating func requirement(in text: String) throws(StatusError) -> LabelSelector.Requirement {
        skipSpaces()
        if take("!") {
            skipSpaces()
            let key = word()
            try validateKey(key)
            return .init(key: key, op: .doesNotExist, values: [])
        }
        let key = word()
        try validateKey(key)
        skipSpaces()
        if atEnd || chars[i] == "," { return .init(key: key, op: .exists, values: []) }
        let op: LabelSelector.Operator
        if take("==") || take("=") { op = .equals }
        else if take("!=") { op = .notEquals }
        else if take(">") { op = .greaterThan }
        else if take("<") { op = .lessThan }
        else {
            let w = word()
            switch w {
            case "in": op = .in
            case "notin": op = .notIn
            default:
                throw StatusError.badRequest("unable to parse requirement: found '\(w)', expected: in, notin, =, ==, !=, gt, lt")
            }
        }
        skipSpaces()
        if op == .in || op == .notIn {
            guard take("(") else { throw StatusError.badRequest("unable to parse requirement: found '\(rest)', expected: '('") }
            var values: [String] = []
            while true {
                skipSpaces()
                let v = word()
                try validateValue(v)
                values.append(v)
                skipSpaces()
                if take(")") { break }
                guard take(",") else { throw StatusError.badRequest("unable to parse requirement: found '\(rest)', expected: ',', ')'") }
            }
            return .init(key: key, op: op, values: values)
        }
        let value = word()
        try validateValue(value)
        return .init(key: key, op: op, values: [value])
    }

    func validateKey(_ key: String) throws(StatusError) {
        let errors = NameValidation.qualifiedName(key)
        if !errors.isEmpty {
            throw StatusError.badRequest("unable to parse requirement: values[0][\(key)]: Invalid value: \"\(key)\": \(errors.joined(separator: "; "))")
        }
    }

    func validateValue(_ value: String) throws(StatusError) {
        let errors = NameValidation.labelValue(value)
        if !errors.isEmpty {
            throw StatusError.badRequest("unable to parse requirement: values[0]: Invalid value: \"\(value)\": \(errors.joined(separator: "; "))")
        }
    }
}

/// A field selector (`metadata.name=x,status.phase!=Running`): only equality tests on the fields
/// a resource declares selectable.
public struct FieldSelector: Sendable, Equatable {
    public struct Requirement: Sendable, Equatable {
        public var field: String
        public var value: String
        public var negated: Bool
    }

    public var requirements: [Requirement]
    public init(requirements: [Requirement] = []) { self.requirements = requirements }
    public var isEverything: Bool { requirements.isEmpty }

    public static func parse(_ text: String) throws(StatusError) -> FieldSelector {
        var reqs: [Requirement] = []
        for term in splitUnescaped(text, on: ",") where !term.trimmingSpaces.isEmpty {
            let t = term.trimmingSpaces
            let (field, value, negated): (String, String, Bool)
            if let r = t.range(of: "!=") { (field, value, negated) = (String(t[..<r.lowerBound]), String(t[r.upperBound...]), true) }
            else if let r = t.range(of: "==") { (field, value, negated) = (String(t[..<r.lowerBound]), String(t[r.upperBound...]), false) }
            else if let r = t.range(of: "=") { (field, value, negated) = (String(t[..<r.lowerBound]), String(t[r.upperBound...]), false) }
            else { throw StatusError.badRequest("invalid selector: '\(text)'; can't understand '\(t)'") }
            reqs.append(Requirement(field: field.trimmingSpaces, value: unescape(value), negated: negated))
        }
        return FieldSelector(requirements: reqs)
    }

    public func matches(_ value: (String) -> String?) -> Bool {
        requirements.allSatisfy { r in
            let actual = value(r.field) ?? ""
            return r.negated ? actual != r.value : actual == r.value
        }
    }

    static func splitUnescaped(_ s: String, on sep: Character) -> [String] {
        var parts: [String] = []
        var current = ""
        var escaped = false
        for c in s {
            if escaped { current.append("\\"); current.append(c); escaped = false; continue }
            if c == "\\" { escaped = true; continue }
            if c == sep { parts.append(current); current = ""; continue }
            current.append(c)
        }
        parts.append(current)
        return parts
    }

    static func unescape(_ s: String) -> String {
        var out = ""
        var escaped = false
        for c in s {
            if escaped { out.append(c); escaped = false } else if c == "\\" { escaped = true } else { out.append(c) }
        }
        return out
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
