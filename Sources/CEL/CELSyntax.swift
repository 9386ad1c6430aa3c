/// The syntax tree of a CEL expression (the Common Expression Language Kubernetes uses for
/// validation rules, admission policies and match conditions), as cel-spec's grammar builds it.
public indirect enum CELExpr: Sendable {
    case literal(CELValue)
    case ident(String)
    /// `operand.field`; `test` for has(operand.field).
    case select(CELExpr, String, test: Bool)
    /// A function or operator: `target.name(args)` or `name(args)` (operators as `_+_`, `_[_]`, `!_`).
    case call(target: CELExpr?, String, [CELExpr])
    case list([CELExpr])
    case map([(CELExpr, CELExpr)])
    /// A comprehension macro (all, exists, exists_one, map, filter) over `range`.
    case comprehension(macro: String, range: CELExpr, variable: String, predicate: CELExpr, transform: CELExpr?)
}

/// What is wrong with an expression's text, with the place, as cel-go reports it.
public struct CELSyntaxError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public let line: Int
    public let column: Int
    public var description: String { "ERROR: <input>:\(line):\(column): \(message)" }

    public init(message: String, line: Int, column: Int) {
        self.message = message
        self.line = line
        self.column = column
    }

    /// At a character offset of the source: its line, and its column counted from 1 as cel-go shows it.
    init(message: String, at offset: Int, in source: [Character]) {
        var line = 1, column = 1
        for c in source.prefix(offset) { if c == "\n" { line += 1; column = 1 } else { column += 1 } }
        self.init(message: message, line: line, column: column)
    }
}

/// CEL's lexer and recursive-descent parser.
public struct CELParser {
    enum Token: Equatable {
        case int(Int64), uint(UInt64), double(Double), string(String), bytes([UInt8])
        case ident(String), op(String), end
    }

    var tokens: [(Token, Int)] = []
    var position = 0
    let source: [Character]

    public static func parse(_ text: String) throws(CELSyntaxError) -> CELExpr {
        var parser = CELParser(source: Array(text))
        try parser.lex()
        let expr = try parser.expression()
        guard case .end = parser.peek else { throw parser.error("Syntax error: mismatched input '\(parser.describe(parser.peek))' expecting <EOF>") }
        return expr
    }

    init(source: [Character]) { self.source = source }

    // MARK: lexing

    mutating func lex() throws(CELSyntaxError) {
        var i = 0
        let operators = ["==", "!=", "<=", ">=", "&&", "||", "<", ">", "+", "-", "*", "/", "%", "!", "?", ":", ".", ",", "(", ")", "[", "]", "{", "}"]
        while i < source.count {
            let c = source[i]
            if c.isWhitespace { i += 1; continue }
            if c == "/", i + 1 < source.count, source[i + 1] == "/" {
                while i < source.count, source[i] != "\n" { i += 1 }
                continue
            }
            let start = i
            if c.isNumber || (c == "." && i + 1 < source.count && source[i + 1].isNumber) {
                tokens.append((try number(&i), start))
                continue
            }
            if c.isLetter || c == "_" {
                var word = ""
                while i < source.count, source[i].isLetter || source[i].isNumber || source[i] == "_" { word.append(source[i]); i += 1 }
                let lower = word.lowercased()
                if i < source.count, source[i] == "\"" || source[i] == "'", ["r", "b", "rb", "br"].contains(lower) {
                    let bytes = try literal(&i, raw: lower.contains("r"), bytes: lower.contains("b"))
                    tokens.append((lower.contains("b") ? .bytes(bytes) : .string(String(decoding: bytes, as: UTF8.self)), start))
                    continue
                }
                tokens.append((.ident(word), start))
                continue
            }
            if c == "\"" || c == "'" {
                tokens.append((.string(String(decoding: try literal(&i, raw: false, bytes: false), as: UTF8.self)), start))
                continue
            }
            guard let op = operators.first(where: { matches($0, at: i) }) else {
                throw error("Syntax error: token recognition error at: '\(c)'", at: i)
            }
            tokens.append((.op(op), start))
            i += op.count
        }
        tokens.append((.end, source.count))
    }

    func matches(_ text: String, at i: Int) -> Bool {
        let chars = Array(text)
        guard i + chars.count <= source.count else { return false }
        return Array(source[i..<i + chars.count]) == chars
    }

    mutating func number(_ i: inout Int) throws(CELSyntaxError) -> Token {
        let start = i
        if matches("0x", at: i) || matches("0X", at: i) {
            i += 2
            var digits = ""
            while i < source.count, source[i].isHexDigit { digits.append(source[i]); i += 1 }
            if i < source.count, source[i] == "u" || source[i] == "U" {
                i += 1
                guard let v = UInt64(digits, radix: 16) else { throw error("invalid uint literal", at: start) }
                return .uint(v)
            }
            guard let v = Int64(digits, radix: 16) else { throw error("invalid int literal", at: start) }
            return .int(v)
        }
        var text = "", isDouble = false
        while i < source.count, source[i].isNumber { text.append(source[i]); i += 1 }
        if i + 1 < source.count, source[i] == ".", source[i + 1].isNumber {
            isDouble = true
            text.append("."); i += 1
            while i < source.count, source[i].isNumber { text.append(source[i]); i += 1 }
        }
        if i < source.count, source[i] == "e" || source[i] == "E" {
            var j = i + 1, exponent = "e"
            if j < source.count, source[j] == "+" || source[j] == "-" { exponent.append(source[j]); j += 1 }
            if j < source.count, source[j].isNumber {
                while j < source.count, source[j].isNumber { exponent.append(source[j]); j += 1 }
                text += exponent; i = j; isDouble = true
            }
        }
        if isDouble {
            guard let v = Double(text) else { throw error("invalid double literal", at: start) }
            return .double(v)
        }
        if i < source.count, source[i] == "u" || source[i] == "U" {
            i += 1
            guard let v = UInt64(text) else { throw error("invalid uint literal", at: start) }
            return .uint(v)
        }
        // 2^63 stands only after a minus (it is -2^63); the parser checks.
        if text == "9223372036854775808" { return .int(.min) }
        guard let v = Int64(text) else { throw error("invalid int literal", at: start) }
        return .int(v)
    }

    /// A quoted literal's UTF-8 bytes. In a bytes literal, \x and octal escapes are bytes; in a
    /// string, code points.
    mutating func literal(_ i: inout Int, raw: Bool, bytes: Bool) throws(CELSyntaxError) -> [UInt8] {
        let start = i
        let quote = source[i]
        let triple = matches(String(repeating: quote, count: 3), at: i)
        i += triple ? 3 : 1
        var out: [UInt8] = []
        func append(_ c: Character) { out += Array(String(c).utf8) }
        func append(code: UInt32, raw rawByte: Bool) throws(CELSyntaxError) {
            if rawByte, bytes { out.append(UInt8(truncatingIfNeeded: code)); return }
            guard let scalar = Unicode.Scalar(code) else { throw error("Syntax error: invalid escape", at: i) }
            out += Array(String(Character(scalar)).utf8)
        }
        while true {
            guard i < source.count else { throw error("Syntax error: token recognition error at: '\(String(source[start...]))'", at: start) }
            if triple ? matches(String(repeating: quote, count: 3), at: i) : source[i] == quote {
                i += triple ? 3 : 1
                return out
            }
            if !triple, source[i] == "\n" { throw error("Syntax error: token recognition error at: '\(String(source[start..<i]))'", at: start) }
            if source[i] == "\\", !raw {
                i += 1
                guard i < source.count else { break }
                let e = source[i]
                i += 1
                switch e {
                case "n": out.append(10)
                case "t": out.append(9)
                case "r": out.append(13)
                case "a": out.append(7)
                case "b": out.append(8)
                case "f": out.append(12)
                case "v": out.append(11)
                case "\\", "'", "\"", "`", "?": append(e)
                case "x", "X", "u", "U":
                    let width = e == "x" || e == "X" ? 2 : e == "u" ? 4 : 8
                    guard i + width <= source.count, let code = UInt32(String(source[i..<i + width]), radix: 16) else {
                        throw error("Syntax error: invalid escape", at: i)
                    }
                    try append(code: code, raw: width == 2)
                    i += width
                case "0"..."7":
                    guard i + 2 <= source.count, let code = UInt32(String([e] + source[i..<i + 2]), radix: 8) else {
                        throw error("Syntax error: invalid escape", at: i)
                    }
                    try append(code: code, raw: true)
                    i += 2
                default: throw error("Syntax error: invalid escape sequence '\\\(e)'", at: i - 2)
                }
                continue
            }
            append(source[i])
            i += 1
        }
        throw error("Syntax error: unterminated string", at: start)
    }

    // MARK: parsing

    var peek: Token { tokens[position].0 }

    mutating func advance() -> Token {
        let t = tokens[position].0
        if position < tokens.count - 1 { position += 1 }
        return t
    }

    mutating func accept(_ op: String) -> Bool {
        if case .op(op) = peek { position += 1; return true }
        return false
    }

    mutating func expect(_ op: String) throws(CELSyntaxError) {
        guard accept(op) else { throw error("Syntax error: mismatched input '\(describe(peek))' expecting '\(op)'") }
    }

    func describe(_ t: Token) -> String {
        switch t {
        case .end: return "<EOF>"
        case .op(let o): return o
        case .ident(let s): return s
        case .int(let v): return String(v)
        case .uint(let v): return "\(v)u"
        case .double(let v): return String(v)
        case .string(let s): return "\"\(s)\""
        case .bytes: return "bytes"
        }
    }

    func error(_ message: String, at index: Int? = nil) -> CELSyntaxError {
        let offset = index ?? tokens[min(position, tokens.count - 1)].1
        return CELSyntaxError(message: message, at: offset, in: source)
    }

    mutating func expression() throws(CELSyntaxError) -> CELExpr {
        let condition = try binary(0)
        guard accept("?") else { return condition }
        let then = try binary(0)
        try expect(":")
        let otherwise = try expression()
        return .call(target: nil, "_?_:_", [condition, then, otherwise])
    }

    static let precedence: [[String]] = [["||"], ["&&"], ["<", "<=", ">", ">=", "==", "!=", "in"], ["+", "-"], ["*", "/", "%"]]

    mutating func binary(_ level: Int) throws(CELSyntaxError) -> CELExpr {
        if level == Self.precedence.count { return try unary() }
        var left = try binary(level + 1)
        while true {
            let op: String
            switch peek {
            case .op(let o) where Self.precedence[level].contains(o): op = o
            case .ident("in") where level == 2: op = "in"
            default: return left
            }
            position += 1
            let right = try binary(level + 1)
            left = .call(target: nil, op == "in" ? "@in" : "_\(op)_", [left, right])
        }
    }

    mutating func unary() throws(CELSyntaxError) -> CELExpr {
        if accept("!") { return .call(target: nil, "!_", [try unary()]) }
        if case .op("-") = peek {
            position += 1
            // A negative literal is one value: -9223372036854775808 is an int.
            if case .int = peek {} else if case .double = peek {} else { return .call(target: nil, "-_", [try unary()]) }
            let t = advance()
            var operand: CELExpr
            switch t {
            case .int(let v): operand = .literal(.int(v == .min ? .min : -v))
            case .double(let v): operand = .literal(.double(-v))
            default: operand = .literal(.null)
            }
            return try member(operand)
        }
        return try member(try primary())
    }

    mutating func member(_ start: CELExpr) throws(CELSyntaxError) -> CELExpr {
        var expr = start
        while true {
            if accept(".") {
                guard case .ident(let name) = advance() else { throw error("Syntax error: mismatched input expecting IDENTIFIER") }
                if accept("(") {
                    let args = try arguments(")")
                    expr = try macro(target: expr, name, args) ?? .call(target: expr, name, args)
                } else {
                    expr = .select(expr, name, test: false)
                }
            } else if accept("[") {
                let index = try expression()
                try expect("]")
                expr = .call(target: nil, "_[_]", [expr, index])
            } else if case .op("{") = peek, Self.isQualifiedName(expr) {
                // A message construction (`Object.spec{replicas: 2}`, `JSONPatch{op: 'add', ...}`):
                // its fields, as a map the caller reads as an object.
                position += 1
                var fields: [(CELExpr, CELExpr)] = []
                if !accept("}") {
                    repeat {
                        if case .op("}") = peek { break }
                        guard case .ident(let field) = advance() else { throw error("Syntax error: mismatched input expecting IDENTIFIER") }
                        try expect(":")
                        fields.append((.literal(.string(field)), try expression()))
                    } while accept(",")
                    try expect("}")
                }
                expr = .map(fields)
            } else {
                return expr
            }
        }
    }

    mutating func arguments(_ close: String) throws(CELSyntaxError) -> [CELExpr] {
        var args: [CELExpr] = []
        if accept(close) { return args }
        repeat {
            if case .op(close) = peek { break }  // a trailing comma
            args.append(try expression())
        } while accept(",")
        try expect(close)
        return args
    }

    mutating func primary() throws(CELSyntaxError) -> CELExpr {
        let offset = tokens[position].1
        let token = advance()
        switch token {
        case .int(.min): throw error("invalid int literal", at: offset)
        case .int(let v): return .literal(.int(v))
        case .uint(let v): return .literal(.uint(v))
        case .double(let v): return .literal(.double(v))
        case .string(let s): return .literal(.string(s))
        case .bytes(let b): return .literal(.bytes(b))
        case .ident("true"): return .literal(.bool(true))
        case .ident("false"): return .literal(.bool(false))
        case .ident("null"): return .literal(.null)
        case .ident(let name):
            if accept("(") {
                let args = try arguments(")")
                if name == "has" {
                    guard args.count == 1, case .select(let operand, let field, _) = args[0] else {
                        throw error("invalid argument to has() macro")
                    }
                    return .select(operand, field, test: true)
                }
                return .call(target: nil, name, args)
            }
            return .ident(name)
        case .op("."):
            guard case .ident(let name) = advance() else { throw error("Syntax error: mismatched input expecting IDENTIFIER") }
            return .ident(name)
        case .op("("):
            let e = try expression()
            try expect(")")
            return e
        case .op("["):
            return .list(try arguments("]"))
        case .op("{"):
            var entries: [(CELExpr, CELExpr)] = []
            if !accept("}") {
                repeat {
                    if case .op("}") = peek { break }
                    let key = try expression()
                    try expect(":")
                    entries.append((key, try expression()))
                } while accept(",")
                try expect("}")
            }
            return .map(entries)
        default:
            throw error("Syntax error: mismatched input '\(describe(token))' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}", at: offset)
        }
    }

    static func isQualifiedName(_ e: CELExpr) -> Bool {
        switch e {
        case .ident(let name): return name.first?.isUppercase == true || name == "google"
        case .select(let operand, _, false): return isQualifiedName(operand)
        default: return false
        }
    }

    /// The comprehension macros, expanded at parse time as cel-go expands them.
    mutating func macro(target: CELExpr, _ name: String, _ args: [CELExpr]) throws(CELSyntaxError) -> CELExpr? {
        let arity: [String: [Int]] = ["all": [2], "exists": [2], "exists_one": [2], "existsOne": [2], "map": [2, 3], "filter": [2]]
        guard let counts = arity[name], counts.contains(args.count) else { return nil }
        guard case .ident(let variable) = args[0] else { throw error("argument must be a simple name") }
        let macro = name == "existsOne" ? "exists_one" : name
        if macro == "map" {
            return args.count == 3 ? .comprehension(macro: "map", range: target, variable: variable, predicate: args[1], transform: args[2])
                : .comprehension(macro: "map", range: target, variable: variable, predicate: .literal(.bool(true)), transform: args[1])
        }
        return .comprehension(macro: macro, range: target, variable: variable, predicate: args[1], transform: nil)
    }
}
