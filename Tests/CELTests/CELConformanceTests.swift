@testable import CEL
import Foundation
import XCTest

/// cel-spec's conformance tests (google/cel-spec tests/simple/testdata, Apache-2.0, copied in
/// testdata/ unchanged) for the features Kubernetes uses: each test's expression parsed and
/// evaluated with its bindings, its value or error compared. Tests that need protocol buffer
/// messages, optionals or type declarations beyond CEL's own are counted as skipped. The pass
/// count per file may only grow: `passing` holds what passes today (the README shows it).
final class CELConformanceTests: XCTestCase {
    static let passing: [String: Int] = [
        "basic": 43, "comparisons": 334, "conversions": 109, "fp_math": 30, "integer_math": 64, "lists": 39, "logic": 30,
        "macros": 44, "math_ext": 199, "parse": 193, "plumbing": 5, "string": 51, "string_ext": 213, "timestamps": 75,
    ]

    func testConformanceFiles() throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("testdata")
        var report: [String] = []
        for file in Self.passing.keys.sorted() {
            let text = try String(contentsOf: dir.appendingPathComponent("\(file).textproto"), encoding: .utf8)
            let root = try TextProto.parse(text)
            var passed = 0, failed: [String] = [], skipped = 0
            for section in root.all("section") {
                for test in section.all("test") {
                    switch Self.run(test) {
                    case .pass: passed += 1
                    case .skip: skipped += 1
                    case .fail(let why): failed.append("\(section.string("name") ?? "")/\(test.string("name") ?? ""): \(why)")
                    }
                }
            }
            report.append("\(file): \(passed) passed, \(failed.count) failed, \(skipped) skipped")
            if ProcessInfo.processInfo.environment["CEL_CONFORMANCE_VERBOSE"] != nil { for f in failed { print("  FAIL \(file) \(f)") } }
            XCTAssertGreaterThanOrEqual(passed, Self.passing[file] ?? 0, "\(file): fewer tests pass than before")
        }
        print("cel-spec conformance:\n" + report.joined(separator: "\n"))
    }

    enum Outcome { case pass, skip, fail(String) }

    static func run(_ test: TextProto.Message) -> Outcome {
        guard let expr = test.string("expr") else { return .skip }
        if test.has("typed_result") || test.has("check_only") || test.string("container") != nil { return .skip }
        // Protocol buffer messages and enums: Kubernetes' CEL has none.
        if ["google.protobuf.", "TestAllTypes", "cel.expr.", "GlobalEnum", "proto2", "proto3", "optional."].contains(where: expr.contains) { return .skip }
        var variables: [String: CELValue] = [:]
        for binding in test.all("bindings") {
            guard let key = binding.string("key"), let value = binding.message("value")?.message("value").flatMap(value) else { return .skip }
            variables[key] = value
        }
        let expected: CELValue?
        if let v = test.message("value") {
            guard let parsed = value(v) else { return .skip }
            expected = parsed
        } else if test.has("eval_error") || test.has("any_eval_errors") {
            expected = nil
        } else if test.has("unknown") || test.has("any_unknowns") {
            return .skip
        } else {
            expected = .bool(true)
        }
        let program: CELProgram
        do {
            let declared = Set(variables.keys).union(test.all("type_env").compactMap { $0.string("name") })
            program = try CELProgram(expr, variables: declared, checked: !test.has("disable_check"))
        } catch {
            return expected == nil ? .pass : .fail("\(error)")
        }
        let result = program.evaluate(variables)
        guard let expected else { return result.isError ? .pass : .fail("expected an error, got \(result.text)") }
        if case .error(let e) = result { return .fail(e) }
        return equalExactly(result, expected) ? .pass : .fail("got \(result.typeName) \(result.text), want \(expected.typeName) \(expected.text)")
    }

    /// Equality for the test's sake: the same type and value (NaN equals NaN).
    static func equalExactly(_ a: CELValue, _ b: CELValue) -> Bool {
        switch (a, b) {
        case (.double(let x), .double(let y)): return x == y || (x.isNaN && y.isNaN)
        case (.list(let x), .list(let y)): return x.count == y.count && zip(x, y).allSatisfy { equalExactly($0, $1) }
        case (.map(let x), .map(let y)):
            return x.count == y.count && x.allSatisfy { e in y.contains { equalExactly($0.key, e.key) && equalExactly($0.value, e.value) } }
        default: return a.typeName == b.typeName && CELValue.equal(a, b)
        }
    }

    /// A cel.expr.Value in text form; nil for kinds this runner does not model (messages, enums).
    static func value(_ m: TextProto.Message) -> CELValue? {
        if let v = m.scalar("int64_value") { return Int64(v).map { .int($0) } }
        if let v = m.scalar("uint64_value") { return UInt64(v).map { .uint($0) } }
        if let v = m.scalar("double_value") {
            switch v.lowercased() {
            case "inf", "infinity": return .double(.infinity)
            case "-inf", "-infinity": return .double(-.infinity)
            case "nan": return .double(.nan)
            default: return Double(v).map { .double($0) }
            }
        }
        if let v = m.string("string_value") { return .string(v) }
        if let v = m.bytes("bytes_value") { return .bytes(v) }
        if let v = m.scalar("bool_value") { return .bool(v == "true") }
        if m.has("null_value") { return .null }
        if let v = m.string("type_value") { return .type(v) }
        if let list = m.message("list_value") {
            var items: [CELValue] = []
            for item in list.all("values") { guard let v = value(item) else { return nil }; items.append(v) }
            return .list(items)
        }
        if let map = m.message("map_value") {
            var entries: [(key: CELValue, value: CELValue)] = []
            for entry in map.all("entries") {
                guard let k = entry.message("key").flatMap(value), let v = entry.message("value").flatMap(value) else { return nil }
                entries.append((k, v))
            }
            return .map(entries)
        }
        return nil
    }
}

/// Protocol buffers' text format, as much as the conformance files use: fields `name: scalar`,
/// `name { ... }` or `name: { ... }`, strings with C escapes, `#` comments.
enum TextProto {
    final class Message {
        var fields: [(String, Field)] = []
        func all(_ name: String) -> [Message] { fields.compactMap { $0.0 == name ? $0.1.message : nil } }
        func message(_ name: String) -> Message? { all(name).first }
        func has(_ name: String) -> Bool { fields.contains { $0.0 == name } }
        func scalar(_ name: String) -> String? { fields.first { $0.0 == name }.flatMap { if case .scalar(let s) = $0.1 { return s }; return nil } }
        func raw(_ name: String) -> [UInt8]? { fields.first { $0.0 == name }.flatMap { if case .string(let b) = $0.1 { return b }; return nil } }
        func string(_ name: String) -> String? { raw(name).flatMap { String(bytes: $0, encoding: .utf8) } }
        func bytes(_ name: String) -> [UInt8]? { raw(name) }
    }

    enum Field {
        case scalar(String), string([UInt8]), message(Message)
        var message: Message? { if case .message(let m) = self { return m }; return nil }
    }

    struct Malformed: Error {}

    static func parse(_ text: String) throws -> Message {
        var p = Reader(Array(text.utf8))
        return try p.message(until: nil)
    }

    struct Reader {
        let b: [UInt8]
        var i = 0
        init(_ b: [UInt8]) { self.b = b }

        mutating func skip() {
            while i < b.count {
                if b[i] == UInt8(ascii: "#") { while i < b.count, b[i] != 10 { i += 1 } }
                else if b[i] == 32 || b[i] == 10 || b[i] == 9 || b[i] == 13 || b[i] == UInt8(ascii: ",") || b[i] == UInt8(ascii: ";") { i += 1 }
                else { return }
            }
        }

        mutating func word() -> String {
            let start = i
            while i < b.count, b[i] == UInt8(ascii: "_") || b[i] == UInt8(ascii: ".") || b[i] == UInt8(ascii: "-") || b[i] == UInt8(ascii: "+")
                    || b[i] == UInt8(ascii: "/") || b[i] == UInt8(ascii: "[") || b[i] == UInt8(ascii: "]")
                    || (b[i] >= 48 && b[i] <= 57) || (b[i] | 0x20 >= 97 && b[i] | 0x20 <= 122) {
                i += 1
            }
            return String(decoding: b[start..<i], as: UTF8.self)
        }

        mutating func message(until close: UInt8?) throws -> Message {
            let m = Message()
            while true {
                skip()
                if i >= b.count { if close == nil { return m }; throw Malformed() }
                if let close, b[i] == close { i += 1; return m }
                let name = word()
                guard !name.isEmpty else { throw Malformed() }
                skip()
                if i < b.count, b[i] == UInt8(ascii: ":") { i += 1; skip() }
                m.fields.append((name, try value()))
            }
        }

        mutating func value() throws -> Field {
            guard i < b.count else { throw Malformed() }
            if b[i] == UInt8(ascii: "{") || b[i] == UInt8(ascii: "<") {
                let close = b[i] == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: ">")
                i += 1
                return .message(try message(until: close))
            }
            if b[i] == UInt8(ascii: "\"") || b[i] == UInt8(ascii: "'") {
                var out: [UInt8] = []
                // Adjacent string literals concatenate.
                while i < b.count, b[i] == UInt8(ascii: "\"") || b[i] == UInt8(ascii: "'") {
                    out += try string()
                    skip()
                }
                return .string(out)
            }
            if b[i] == UInt8(ascii: "[") {  // a list of values: each becomes the same field
                throw Malformed()
            }
            return .scalar(word())
        }

        mutating func string() throws -> [UInt8] {
            let quote = b[i]
            i += 1
            var out: [UInt8] = []
            while i < b.count, b[i] != quote {
                if b[i] == UInt8(ascii: "\\") {
                    i += 1
                    let c = b[i]
                    i += 1
                    switch c {
                    case UInt8(ascii: "n"): out.append(10)
                    case UInt8(ascii: "t"): out.append(9)
                    case UInt8(ascii: "r"): out.append(13)
                    case UInt8(ascii: "a"): out.append(7)
                    case UInt8(ascii: "b"): out.append(8)
                    case UInt8(ascii: "f"): out.append(12)
                    case UInt8(ascii: "v"): out.append(11)
                    case UInt8(ascii: "x"):
                        var digits = ""
                        while digits.count < 2, i < b.count, UInt8(ascii: "0")...UInt8(ascii: "f") ~= b[i], Character(UnicodeScalar(b[i])).isHexDigit {
                            digits.append(Character(UnicodeScalar(b[i]))); i += 1
                        }
                        out.append(UInt8(digits, radix: 16) ?? 0)
                    case UInt8(ascii: "u"), UInt8(ascii: "U"):
                        let width = c == UInt8(ascii: "u") ? 4 : 8
                        let hex = String(decoding: b[i..<min(b.count, i + width)], as: UTF8.self)
                        i += width
                        if let code = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(code) { out += Array(String(Character(scalar)).utf8) }
                    case UInt8(ascii: "0")...UInt8(ascii: "7"):
                        var digits = String(Character(UnicodeScalar(c)))
                        while digits.count < 3, i < b.count, UInt8(ascii: "0")...UInt8(ascii: "7") ~= b[i] { digits.append(Character(UnicodeScalar(b[i]))); i += 1 }
                        out.append(UInt8(truncatingIfNeeded: Int(digits, radix: 8) ?? 0))
                    default: out.append(c)
                    }
                } else {
                    out.append(b[i])
                    i += 1
                }
            }
            i += 1
            return out
        }
    }
}
