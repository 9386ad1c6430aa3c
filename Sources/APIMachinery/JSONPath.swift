/// The JSONPath subset kubectl's `-o jsonpath` and CRD additionalPrinterColumns use:
/// `.a.b`, `['a.b']`, `[0]`, `[-1]`, `[1:3]`, `[*]`, `.*`, `..name`, unions `[0,1]`, and filters
/// `[?(@.type=="Ready")]`. A missing member yields no result rather than an error, as kubectl
/// does with allowMissingKeys (which both the table printer and `-o jsonpath` use).
public struct JSONPath: Sendable {
    indirect enum Step: Sendable, Equatable {
        case field(String)
        case wildcard
        case index(Int)
        case slice(Int?, Int?, Int?)
        case union([Step])
        case descendants(Step)
        case filter(Filter)
    }

    struct Filter: Sendable, Equatable {
        var lhs: Operand
        var op: String?
        var rhs: Operand?
    }

    enum Operand: Sendable, Equatable {
        case path([Step])  // relative to the element (`@`)
        case literal(JSON)
    }

    public let expression: String
    let steps: [Step]

    public init(_ expression: String) throws(StatusError) {
        self.expression = expression
        var text = Substring(expression).drop(while: \.isWhitespace)
        while text.last?.isWhitespace == true { text = text.dropLast() }
        if text.first == "{" {
            guard text.last == "}" else { throw Self.error(expression, "unclosed action") }
            text = text.dropFirst().dropLast()
        }
        var parser = Parser(chars: Array(text), expression: expression)
        steps = try parser.wholePath()
    }

    public func evaluate(_ json: JSON) -> [JSON] { Self.run(steps, on: [json]) }

    static func error(_ expression: String, _ why: String) -> StatusError {
        .badRequest("error parsing jsonpath \(expression), \(why)")
    }

    // MARK: evaluation

    static func run(_ steps: [Step], on nodes: [JSON]) -> [JSON] {
        steps.reduce(nodes) { current, step in current.flatMap { apply(step, to: $0) } }
    }

    static func apply(_ step: Step, to node: JSON) -> [JSON] {
        switch step {
        case .field(let name):
            return node.object?[name].map { [$0] } ?? []
        case .wildcard:
            if let a = node.array { return a }
            return node.object.map { o in o.keys.sorted().map { o[$0]! } } ?? []
        case .index(let i):
            guard let a = node.array else { return [] }
            let k = i < 0 ? a.count + i : i
            return a.indices.contains(k) ? [a[k]] : []
        case .slice(let start, let end, let stride):
            guard let a = node.array else { return [] }
            return sliced(a, start, end, stride)
        case .union(let steps):
            return steps.flatMap { apply($0, to: node) }
        case .descendants(let step):
            return ([node] + descendants(of: node)).flatMap { apply(step, to: $0) }
        case .filter(let filter):
            return (node.array ?? []).filter { filter.matches($0) }
        }
    }

    static func descendants(of node: JSON) -> [JSON] {
        let children = node.array ?? node.object.map { o in o.keys.sorted().map { o[$0]! } } ?? []
        return children.flatMap { [$0] + descendants(of: $0) }
    }

    /// Python-style slicing, clamped to the array, as kubectl's `[start:end:step]`.
    static func sliced(_ a: [JSON], _ start: Int?, _ end: Int?, _ stride: Int?) -> [JSON] {
        func clamp(_ v: Int) -> Int { min(max(v < 0 ? a.count + v : v, 0), a.count) }
        let from = clamp(start ?? 0), to = clamp(end ?? a.count), by = max(stride ?? 1, 1)
        guard from < to else { return [] }
        return Swift.stride(from: from, to: to, by: by).map { a[$0] }
    }

    // MARK: parsing

    struct Parser {
        let chars: [Character]
        let expression: String
        var pos = 0

        var peek: Character? { pos < chars.count ? chars[pos] : nil }

        func fail(_ why: String) -> StatusError { JSONPath.error(expression, why) }

        mutating func expect(_ c: Character) throws(StatusError) {
            guard peek == c else { throw fail(peek.map { "unexpected \"\($0)\", expected \"\(c)\"" } ?? "unterminated expression") }
            pos += 1
        }

        mutating func skipSpaces() { while peek?.isWhitespace == true { pos += 1 } }

        /// The whole expression: an optional `$`, then steps to the end.
        mutating func wholePath() throws(StatusError) -> [Step] {
            if peek == "$" { pos += 1 }
            let steps = try path()
            guard let c = peek else { return steps }
            if c.isLetter { throw fail("unrecognized identifier \(String(chars[pos...]))") }
            throw fail("unrecognized character in action: \(c.unicodeScalars.first.map { "U+" + String($0.value, radix: 16, uppercase: true) } ?? "") '\(c)'")
        }

        /// Steps until something that cannot continue a path (end, space, operator, `)`).
        mutating func path() throws(StatusError) -> [Step] {
            var steps: [Step] = []
            while let c = peek {
                if c == "[" {
                    steps.append(try bracket())
                } else if c == "." {
                    pos += 1
                    if peek == "." {
                        pos += 1
                        guard let step = try member() else { throw fail("missing name after ..") }
                        steps.append(.descendants(step))
                    } else if let step = try member() {
                        steps.append(step)
                    }
                } else {
                    break
                }
            }
            return steps
        }

        /// What follows a dot: a name, `*` or a bracket; nil for a bare `.` (the current node).
        mutating func member() throws(StatusError) -> Step? {
            switch peek {
            case "[": return try bracket()
            case "*": pos += 1; return .wildcard
            default:
                let name = self.name()
                return name.isEmpty ? nil : .field(name)
            }
        }

        static let nameTerminators: Set<Character> = [".", "[", "]", "(", ")", "=", "!", "<", ">", ",", "'", "\"", "{", "}", "@", "$", "?"]

        /// A member name in dot notation; `\.` keeps a dot inside it (`kubernetes\.io/name`).
        mutating func name() -> String {
            var out = ""
            while let c = peek, !c.isWhitespace, !Self.nameTerminators.contains(c) {
                pos += 1
                if c == "\\", let escaped = peek { out.append(escaped); pos += 1 } else { out.append(c) }
            }
            return out
        }

        mutating func bracket() throws(StatusError) -> Step {
            try expect("[")
            skipSpaces()
            if peek == "?" {
                pos += 1
                try expect("(")
                let filter = try self.filter()
                try expect(")")
                skipSpaces()
                try expect("]")
                return .filter(filter)
            }
            var items: [Step] = []
            repeat {
                skipSpaces()
                items.append(try bracketItem())
                skipSpaces()
            } while consume(",")
            try expect("]")
            return items.count == 1 ? items[0] : .union(items)
        }

        mutating func consume(_ c: Character) -> Bool {
            guard peek == c else { return false }
            pos += 1
            return true
        }

        mutating func bracketItem() throws(StatusError) -> Step {
            if peek == "'" || peek == "\"" { return .field(try quoted()) }
            if consume("*") { return .wildcard }
            var parts: [Int?] = [try integer()]
            while consume(":") { skipSpaces(); parts.append(try integer()) }
            guard parts.count <= 3 else { throw fail("too many slice parts") }
            if parts.count == 1 {
                guard let i = parts[0] else { throw fail("invalid array index") }
                return .index(i)
            }
            return .slice(parts[0], parts[1], parts.count > 2 ? parts[2] : nil)
        }

        mutating func integer() throws(StatusError) -> Int? {
            let start = pos
            if peek == "-" { pos += 1 }
            while peek?.isASCII == true, peek?.isNumber == true { pos += 1 }
            let text = String(chars[start..<pos])
            if text.isEmpty { return nil }
            guard let v = Int(text) else { throw fail("invalid array index \(text)") }
            return v
        }

        mutating func quoted() throws(StatusError) -> String {
            let quote = chars[pos]
            pos += 1
            var out = ""
            while let c = peek, c != quote {
                pos += 1
                if c == "\\", let escaped = peek { out.append(escaped); pos += 1 } else { out.append(c) }
            }
            guard consume(quote) else { throw fail("unterminated quoted string") }
            return out
        }

        static let operators = ["==", "!=", "<=", ">=", "<", ">"]

        mutating func filter() throws(StatusError) -> Filter {
            skipSpaces()
            let lhs = try operand()
            skipSpaces()
            guard let op = Self.operators.first(where: { lookingAt($0) }) else { return Filter(lhs: lhs) }
            pos += op.count
            skipSpaces()
            let rhs = try operand()
            skipSpaces()
            return Filter(lhs: lhs, op: op, rhs: rhs)
        }

        func lookingAt(_ s: String) -> Bool {
            let c = Array(s)
            return pos + c.count <= chars.count && Array(chars[pos..<pos + c.count]) == c
        }

        mutating func operand() throws(StatusError) -> Operand {
            switch peek {
            case "@": pos += 1; return .path(try path())
            case "'", "\"": return .literal(.string(try quoted()))
            default:
                let start = pos
                while let c = peek, c.isLetter || c.isNumber || c == "-" || c == "." || c == "+" { pos += 1 }
                let word = String(chars[start..<pos])
                switch word {
                case "true": return .literal(true)
                case "false": return .literal(false)
                case "null", "nil": return .literal(.null)
                default:
                    if let i = Int64(word) { return .literal(.int(i)) }
                    if let d = Double(word) { return .literal(.double(d)) }
                    throw fail("unrecognized filter operand \"\(word)\"")
                }
            }
        }
    }
}

extension JSONPath.Filter {
    /// Without an operator a filter tests existence; with one, both sides must yield a value.
    func matches(_ element: JSON) -> Bool {
        func values(_ o: JSONPath.Operand) -> [JSON] {
            switch o {
            case .path(let steps): return JSONPath.run(steps, on: [element])
            case .literal(let v): return [v]
            }
        }
        let left = values(lhs)
        guard let op, let rhs else { return !left.isEmpty }
        guard let l = left.first, let r = values(rhs).first else { return false }
        if let a = l.number, let b = r.number {
            switch op {
            case "==": return a == b
            case "!=": return a != b
            case "<": return a < b
            case ">": return a > b
            case "<=": return a <= b
            default: return a >= b
            }
        }
        switch (op, l.string, r.string) {
        case ("==", _, _): return l == r
        case ("!=", _, _): return l != r
        case ("<", let a?, let b?): return a < b
        case (">", let a?, let b?): return a > b
        case ("<=", let a?, let b?): return a <= b
        case (">=", let a?, let b?): return a >= b
        default: return false
        }
    }
}
