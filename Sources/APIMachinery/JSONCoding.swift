import Foundation

/// A parse failure, worded the way Go's encoding/json words it so kubectl users see familiar text.
public struct JSONParseError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public let offset: Int
    public var description: String { message }
}

extension JSON {
    /// Nesting deeper than this is refused rather than risking the stack on hostile input.
    public static let maxDepth = 512

    public static func parse(_ data: Data) throws(JSONParseError) -> JSON {
        var result: Result<JSON, JSONParseError> = .success(.null)
        data.withUnsafeBytes { raw in
            var parser = JSONParser(bytes: raw.bindMemory(to: UInt8.self))
            do throws(JSONParseError) { result = .success(try parser.parseDocument()) } catch { result = .failure(error) }
        }
        return try result.get()
    }

    public static func parse(_ bytes: [UInt8]) throws(JSONParseError) -> JSON {
        var result: Result<JSON, JSONParseError> = .success(.null)
        bytes.withUnsafeBufferPointer { buffer in
            var parser = JSONParser(bytes: buffer)
            do throws(JSONParseError) { result = .success(try parser.parseDocument()) } catch { result = .failure(error) }
        }
        return try result.get()
    }

    public static func parse(_ string: String) throws(JSONParseError) -> JSON {
        try parse(Array(string.utf8))
    }

    /// Parses as `parse` does (a repeated key keeps its last value, as Go's decoder does) and
    /// names each repeated key by its path, as upstream's strict decoding reports them:
    /// `spec.template.spec.containers[0].image`. Paths are only traced when a key repeats.
    public static func parseNamingDuplicates(_ bytes: [UInt8]) throws(JSONParseError) -> (json: JSON, duplicates: [String]) {
        var result: Result<(JSON, [String]), JSONParseError> = .success((.null, []))
        bytes.withUnsafeBufferPointer { buffer in
            var parser = JSONParser(bytes: buffer)
            do throws(JSONParseError) {
                let json = try parser.parseDocument()
                guard parser.sawDuplicate else { result = .success((json, [])); return }
                var tracer = JSONParser(bytes: buffer)
                tracer.path = []
                _ = try tracer.parseDocument()
                result = .success((json, tracer.duplicates))
            } catch { result = .failure(error) }
        }
        return try result.get()
    }

    /// Compact JSON with object members in sorted order, so output is stable.
    public func serialized() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        JSONWriter.write(self, into: &out)
        return out
    }

    public func data() -> Data { Data(serialized()) }

    /// Compact JSON with each object's members in the order `order(parentKey)` names them (the
    /// rest sorted after): a Go struct's field order, for bytes clients compare as text.
    public func serialized(order: (_ parentKey: String?) -> [String]) -> [UInt8] {
        var out: [UInt8] = []
        JSONWriter.write(self, into: &out, parent: nil, order: order)
        return out
    }

    public var jsonString: String { String(decoding: serialized(), as: UTF8.self) }
}

struct JSONParser {
    let bytes: UnsafeBufferPointer<UInt8>
    var i = 0
    var depth = 0
    var sawDuplicate = false
    /// The path to the value being parsed, kept only when tracing duplicates (nil otherwise).
    var path: [String]?
    var duplicates: [String] = []

    init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    mutating func parseDocument() throws(JSONParseError) -> JSON {
        skipWhitespace()
        if i == bytes.count { throw fail("unexpected end of JSON input") }
        let value = try parseValue()
        skipWhitespace()
        if i != bytes.count { throw fail("invalid character '\(char(bytes[i]))' after top-level value") }
        return value
    }

    func fail(_ message: String) -> JSONParseError { JSONParseError(message: message, offset: i) }

    func char(_ b: UInt8) -> String { b < 0x80 ? String(UnicodeScalar(b)) : "\\x" + String(b, radix: 16) }

    mutating func skipWhitespace() {
        while i < bytes.count {
            switch bytes[i] {
            case 0x20, 0x0A, 0x0D, 0x09: i += 1
            default: return
            }
        }
    }

    mutating func parseValue() throws(JSONParseError) -> JSON {
        guard i < bytes.count else { throw fail("unexpected end of JSON input") }
        switch bytes[i] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw fail("invalid character '\(char(bytes[i]))' looking for beginning of value")
        }
    }

    mutating func literal(_ word: StaticString) throws(JSONParseError) {
        let n = word.utf8CodeUnitCount
        guard i + n <= bytes.count else { throw fail("unexpected end of JSON input") }
        let p = word.utf8Start
        for k in 0..<n where bytes[i + k] != p[k] {
            i += k
            throw fail("invalid character '\(char(bytes[i]))' in literal \(word) (expecting '\(char(p[k]))')")
        }
        i += n
    }

    mutating func enter() throws(JSONParseError) {
        depth += 1
        if depth > JSON.maxDepth { throw fail("exceeded max depth of \(JSON.maxDepth)") }
    }

    mutating func parseObject() throws(JSONParseError) -> JSON {
        try enter()
        defer { depth -= 1 }
        i += 1
        var members: [String: JSON] = [:]
        skipWhitespace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
        while true {
            skipWhitespace()
            guard i < bytes.count else { throw fail("unexpected end of JSON input") }
            guard bytes[i] == UInt8(ascii: "\"") else {
                throw fail("invalid character '\(char(bytes[i]))' looking for beginning of object key string")
            }
            let key = try parseString()
            skipWhitespace()
            guard i < bytes.count else { throw fail("unexpected end of JSON input") }
            guard bytes[i] == UInt8(ascii: ":") else {
                throw fail("invalid character '\(char(bytes[i]))' after object key")
            }
            i += 1
            skipWhitespace()
            path?.append(key)
            if members.updateValue(try parseValue(), forKey: key) != nil {
                sawDuplicate = true
                if let path { duplicates.append(Self.render(path)) }
            }
            path?.removeLast()
            skipWhitespace()
            guard i < bytes.count else { throw fail("unexpected end of JSON input") }
            switch bytes[i] {
            case UInt8(ascii: ","): i += 1
            case UInt8(ascii: "}"): i += 1; return .object(members)
            default: throw fail("invalid character '\(char(bytes[i]))' after object key:value pair")
            }
        }
    }

    mutating func parseArray() throws(JSONParseError) -> JSON {
        try enter()
        defer { depth -= 1 }
        i += 1
        var elements: [JSON] = []
        skipWhitespace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return .array(elements) }
        while true {
            skipWhitespace()
            path?.append("[\(elements.count)]")
            elements.append(try parseValue())
            path?.removeLast()
            skipWhitespace()
            guard i < bytes.count else { throw fail("unexpected end of JSON input") }
            switch bytes[i] {
            case UInt8(ascii: ","): i += 1
            case UInt8(ascii: "]"): i += 1; return .array(elements)
            default: throw fail("invalid character '\(char(bytes[i]))' after array element")
            }
        }
    }

    /// `spec.ports[0].name`: keys joined by dots, indexes in brackets.
    static func render(_ path: [String]) -> String {
        var out = ""
        for element in path {
            if !out.isEmpty, !element.hasPrefix("[") { out += "." }
            out += element
        }
        return out
    }

    mutating func parseString() throws(JSONParseError) -> String {
        i += 1  // opening quote
        let start = i
        // Fast path: no escapes.
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") {
                let s = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
                i += 1
                return s
            }
            if b == UInt8(ascii: "\\") { break }
            if b < 0x20 { throw fail("invalid character '\(char(b))' in string literal") }
            i += 1
        }
        var out = Array(bytes[start..<i])
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") { i += 1; return String(decoding: out, as: UTF8.self) }
            if b < 0x20 { throw fail("invalid character '\(char(b))' in string literal") }
            if b != UInt8(ascii: "\\") { out.append(b); i += 1; continue }
            i += 1
            guard i < bytes.count else { break }
            let e = bytes[i]
            i += 1
            switch e {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800..<0xDC00).contains(scalar), i + 1 < bytes.count,
                   bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u")
                {
                    let save = i
                    i += 2
                    let low = try hex4()
                    if (0xDC00..<0xE000).contains(low) {
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else {
                        i = save
                    }
                }
                let u = Unicode.Scalar(scalar) ?? "\u{FFFD}"
                out.append(contentsOf: Array(String(Character(u)).utf8))
            default:
                i -= 1
                throw fail("invalid character '\(char(e))' in string escape code")
            }
        }
        throw fail("unexpected end of JSON input")
    }

    mutating func hex4() throws(JSONParseError) -> UInt32 {
        guard i + 4 <= bytes.count else { throw fail("unexpected end of JSON input") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let b = bytes[i]
            let d: UInt32
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(b - 48)
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(b - 87)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(b - 55)
            default: throw fail("invalid character '\(char(b))' in \\u hexadecimal character escape")
            }
            v = v * 16 + d
            i += 1
        }
        return v
    }

    mutating func parseNumber() throws(JSONParseError) -> JSON {
        let start = i
        var isInteger = true
        if bytes[i] == UInt8(ascii: "-") { i += 1 }
        guard i < bytes.count, (0x30...0x39).contains(bytes[i]) else {
            if i < bytes.count { throw fail("invalid character '\(char(bytes[i]))' in numeric literal") }
            throw fail("unexpected end of JSON input")
        }
        if bytes[i] == 0x30 { i += 1 } else { while i < bytes.count, (0x30...0x39).contains(bytes[i]) { i += 1 } }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            isInteger = false
            i += 1
            guard i < bytes.count, (0x30...0x39).contains(bytes[i]) else {
                throw fail("invalid character after decimal point in numeric literal")
            }
            while i < bytes.count, (0x30...0x39).contains(bytes[i]) { i += 1 }
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            isInteger = false
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard i < bytes.count, (0x30...0x39).contains(bytes[i]) else {
                throw fail("invalid character in exponent of numeric literal")
            }
            while i < bytes.count, (0x30...0x39).contains(bytes[i]) { i += 1 }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
        if isInteger, let v = Int64(text) { return .int(v) }
        // Beyond a float64, as Go's decoder refuses it (it would be written back as null).
        guard let d = Double(text), d.isFinite else { throw fail("json: cannot unmarshal number \(text) into Go value of type float64") }
        return .double(d)
    }
}

enum JSONWriter {
    static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    static func write(_ value: JSON, into out: inout [UInt8]) {
        switch value {
        case .null: out.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])
        case .bool(let b): out.append(contentsOf: b ? Array("true".utf8) : Array("false".utf8))
        case .int(let i): out.append(contentsOf: String(i).utf8)
        case .double(let d):
            // Whole numbers in digits up to 1e21, as Go's encoder writes a float64: an int64 field
            // sent as -9.223372036854776e18 reads back as an integer.
            if d.isFinite, d == d.rounded(), abs(d) < 0x1p63 {
                out.append(contentsOf: String(Int64(d)).utf8)
            } else if d.isFinite, d == d.rounded(), abs(d) < 1e21 {
                out.append(contentsOf: String(format: "%.0f", d).utf8)
            } else if d.isFinite {
                out.append(contentsOf: "\(d)".utf8)
            } else {
                out.append(contentsOf: "null".utf8)
            }
        case .string(let s): writeString(s, into: &out)
        case .array(let a):
            out.append(UInt8(ascii: "["))
            for (n, element) in a.enumerated() {
                if n > 0 { out.append(UInt8(ascii: ",")) }
                write(element, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            out.append(UInt8(ascii: "{"))
            var first = true
            for key in o.keys.sorted() {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                writeString(key, into: &out)
                out.append(UInt8(ascii: ":"))
                write(o[key]!, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    static func write(_ value: JSON, into out: inout [UInt8], parent: String?, order: (String?) -> [String]) {
        switch value {
        case .object(let o):
            let first = order(parent).filter { o[$0] != nil }
            let keys = first + o.keys.filter { !first.contains($0) }.sorted()
            out.append(UInt8(ascii: "{"))
            for (n, key) in keys.enumerated() {
                if n > 0 { out.append(UInt8(ascii: ",")) }
                writeString(key, into: &out)
                out.append(UInt8(ascii: ":"))
                write(o[key]!, into: &out, parent: key, order: order)
            }
            out.append(UInt8(ascii: "}"))
        case .array(let a):
            out.append(UInt8(ascii: "["))
            for (n, element) in a.enumerated() {
                if n > 0 { out.append(UInt8(ascii: ",")) }
                write(element, into: &out, parent: parent, order: order)
            }
            out.append(UInt8(ascii: "]"))
        default:
            write(value, into: &out)
        }
    }

    static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(0x22)
        for b in s.utf8 {
            switch b {
            case 0x22: out.append(0x5C); out.append(0x22)
            case 0x5C: out.append(0x5C); out.append(0x5C)
            case 0x0A: out.append(0x5C); out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(0x5C); out.append(UInt8(ascii: "r"))
            case 0x09: out.append(0x5C); out.append(UInt8(ascii: "t"))
            case 0x00..<0x20:
                out.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 0xF)]])
            default: out.append(b)
            }
        }
        out.append(0x22)
    }
}
