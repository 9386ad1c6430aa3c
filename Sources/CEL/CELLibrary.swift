import APIMachinery
import Foundation
import GoRegexp

/// CEL's standard functions and operators, and the extension libraries Kubernetes enables
/// (strings, lists, sets, math), each by name and argument types as cel-go's overloads.
enum CELLibrary {
    static func call(_ name: String, _ args: [CELValue]) -> CELValue {
        switch (name, args.count) {
        case ("_+_", 2): return add(args[0], args[1])
        case ("_-_", 2): return subtract(args[0], args[1])
        case ("_*_", 2): return multiply(args[0], args[1])
        case ("_/_", 2): return divide(args[0], args[1], name)
        case ("_%_", 2): return divide(args[0], args[1], name)
        case ("-_", 1):
            switch args[0] {
            case .int(let i): return i == .min ? .error("integer overflow") : .int(-i)
            case .double(let d): return .double(-d)
            case .duration(let d): return d == .min ? .error("integer overflow") : .duration(-d)
            default: return CELValue.noOverload("-_", args)
            }
        case ("!_", 1):
            guard case .bool(let b) = args[0] else { return CELValue.noOverload("!_", args) }
            return .bool(!b)
        case ("_==_", 2): return .bool(CELValue.equal(args[0], args[1]))
        case ("_!=_", 2): return .bool(!CELValue.equal(args[0], args[1]))
        case ("_<_", 2), ("_<=_", 2), ("_>_", 2), ("_>=_", 2):
            guard let order = CELValue.compare(args[0], args[1]) else {
                if case .double(let x) = args[0], x.isNaN { return .bool(false) }
                if case .double(let y) = args[1], y.isNaN { return .bool(false) }
                return CELValue.noOverload(name, args)
            }
            switch name {
            case "_<_": return .bool(order < 0)
            case "_<=_": return .bool(order <= 0)
            case "_>_": return .bool(order > 0)
            default: return .bool(order >= 0)
            }
        case ("@in", 2):
            switch args[1] {
            case .list(let l): return .bool(l.contains { CELValue.equal($0, args[0]) })
            case .map(let m): return .bool(m.contains { CELValue.equal($0.key, args[0]) })
            default: return CELValue.noOverload("@in", args)
            }
        case ("_[_]", 2): return index(args[0], args[1])
        case ("size", 1): return size(args[0])
        case ("type", 1): return .type(args[0].typeName)
        case ("dyn", 1): return args[0]
        case ("int", 1): return toInt(args[0])
        case ("uint", 1): return toUint(args[0])
        case ("double", 1): return toDouble(args[0])
        case ("string", 1): return toString(args[0])
        case ("bool", 1):
            guard case .string(let s) = args[0] else { return args[0].typeName == "bool" ? args[0] : CELValue.noOverload("bool", args) }
            if ["true", "True", "TRUE", "t", "1"].contains(s) { return .bool(true) }
            if ["false", "False", "FALSE", "f", "0"].contains(s) { return .bool(false) }
            return .error("type conversion error from 'string' to 'bool'")
        case ("bytes", 1):
            if case .string(let s) = args[0] { return .bytes(Array(s.utf8)) }
            if case .bytes = args[0] { return args[0] }
            return CELValue.noOverload("bytes", args)
        case ("duration", 1):
            if case .duration = args[0] { return args[0] }
            guard case .string(let s) = args[0], let d = CELDuration.parse(s) else { return .error("invalid duration") }
            return .duration(d)
        case ("timestamp", 1):
            if case .timestamp = args[0] { return args[0] }
            if case .int(let seconds) = args[0] { return CELTimestamp(seconds: seconds).map { .timestamp($0) } ?? .error("timestamp out of range") }
            guard case .string(let s) = args[0], let t = CELTimestamp.parse(s) else { return .error("invalid timestamp") }
            return .timestamp(t)
        default: return times(name, args) ?? KubernetesLibrary.call(name, args) ?? strings(name, args) ?? lists(name, args) ?? .error("found no matching overload for '\(name)' applied to '(\(args.map(\.typeName).joined(separator: ", ")))'")
        }
    }

    // MARK: arithmetic

    static func add(_ a: CELValue, _ b: CELValue) -> CELValue {
        switch (a, b) {
        case (.int(let x), .int(let y)): let (r, o) = x.addingReportingOverflow(y); return o ? .error("integer overflow") : .int(r)
        case (.uint(let x), .uint(let y)): let (r, o) = x.addingReportingOverflow(y); return o ? .error("unsigned integer overflow") : .uint(r)
        case (.double(let x), .double(let y)): return .double(x + y)
        case (.string(let x), .string(let y)): return .string(x + y)
        case (.bytes(let x), .bytes(let y)): return .bytes(x + y)
        case (.list(let x), .list(let y)): return .list(x + y)
        case (.duration(let x), .duration(let y)): let (r, o) = x.addingReportingOverflow(y); return o ? .error("integer overflow") : .duration(r)
        case (.timestamp(let t), .duration(let d)), (.duration(let d), .timestamp(let t)): return checked(t.adding(nanoseconds: d))
        default: return CELValue.noOverload("_+_", [a, b])
        }
    }

    static func subtract(_ a: CELValue, _ b: CELValue) -> CELValue {
        switch (a, b) {
        case (.int(let x), .int(let y)): let (r, o) = x.subtractingReportingOverflow(y); return o ? .error("integer overflow") : .int(r)
        case (.uint(let x), .uint(let y)): let (r, o) = x.subtractingReportingOverflow(y); return o ? .error("unsigned integer overflow") : .uint(r)
        case (.double(let x), .double(let y)): return .double(x - y)
        case (.duration(let x), .duration(let y)): let (r, o) = x.subtractingReportingOverflow(y); return o ? .error("integer overflow") : .duration(r)
        case (.timestamp(let x), .timestamp(let y)): return x.nanoseconds(since: y).map { .duration($0) } ?? .error("duration out of range")
        case (.timestamp(let t), .duration(let d)): return d == .min ? .error("timestamp out of range") : checked(t.adding(nanoseconds: -d))
        default: return CELValue.noOverload("_-_", [a, b])
        }
    }

    static func multiply(_ a: CELValue, _ b: CELValue) -> CELValue {
        switch (a, b) {
        case (.int(let x), .int(let y)): let (r, o) = x.multipliedReportingOverflow(by: y); return o ? .error("integer overflow") : .int(r)
        case (.uint(let x), .uint(let y)): let (r, o) = x.multipliedReportingOverflow(by: y); return o ? .error("unsigned integer overflow") : .uint(r)
        case (.double(let x), .double(let y)): return .double(x * y)
        default: return CELValue.noOverload("_*_", [a, b])
        }
    }

    static func divide(_ a: CELValue, _ b: CELValue, _ op: String) -> CELValue {
        let modulo = op == "_%_"
        switch (a, b) {
        case (.int(let x), .int(let y)):
            if y == 0 { return .error(modulo ? "modulus by zero" : "division by zero") }
            let (r, o) = modulo ? x.remainderReportingOverflow(dividingBy: y) : x.dividedReportingOverflow(by: y)
            return o ? .error("integer overflow") : .int(r)
        case (.uint(let x), .uint(let y)):
            if y == 0 { return .error(modulo ? "modulus by zero" : "division by zero") }
            return .uint(modulo ? x % y : x / y)
        case (.double(let x), .double(let y)) where !modulo: return .double(x / y)
        default: return CELValue.noOverload(op, [a, b])
        }
    }

    static func index(_ container: CELValue, _ key: CELValue) -> CELValue {
        switch container {
        case .list(let l):
            let i: Int64
            switch key {
            case .int(let v): i = v
            case .uint(let v): i = Int64(clamping: v)
            case .double(let d) where d.rounded() == d: i = Int64(d)
            default: return CELValue.noOverload("_[_]", [container, key])
            }
            guard i >= 0, i < l.count else { return .error("index out of bounds: \(i)") }
            return l[Int(i)]
        case .map(let m):
            return m.first { CELValue.equal($0.key, key) }?.value ?? .error("no such key: \(key.text)")
        default: return CELValue.noOverload("_[_]", [container, key])
        }
    }

    static func size(_ v: CELValue) -> CELValue {
        switch v {
        case .string(let s): return .int(Int64(s.unicodeScalars.count))
        case .bytes(let b): return .int(Int64(b.count))
        case .list(let l): return .int(Int64(l.count))
        case .map(let m): return .int(Int64(m.count))
        default: return CELValue.noOverload("size", [v])
        }
    }

    // MARK: time

    /// Timestamps run from year 1 to year 9999.
    static func checked(_ t: CELTimestamp?) -> CELValue { t.map { .timestamp($0) } ?? .error("timestamp out of range") }

    /// The accessors of timestamps (in UTC or the time zone given, by name or as ±HH:MM) and
    /// of durations (whole hours, minutes, seconds, milliseconds).
    static func times(_ name: String, _ args: [CELValue]) -> CELValue? {
        switch args.first {
        case .duration(let d)?:
            guard args.count == 1 else { return nil }
            switch name {
            case "getHours": return .int(d / 3_600_000_000_000)
            case "getMinutes": return .int(d / 60_000_000_000)
            case "getSeconds": return .int(d / 1_000_000_000)
            case "getMilliseconds": return .int(d / 1_000_000 % 1000)
            default: return nil
            }
        case .timestamp(let t)?:
            var zone = TimeZone(identifier: "UTC")!
            if args.count == 2 {
                guard case .string(let z) = args[1] else { return nil }
                guard let parsed = timeZone(z) else { return .error("invalid time zone: \(z)") }
                zone = parsed
            }
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = zone
            let date = t.date
            let c = calendar.dateComponents([.year, .month, .day, .weekday, .hour, .minute, .second], from: date)
            switch name {
            case "getFullYear": return .int(Int64(c.year ?? 0))
            case "getMonth": return .int(Int64((c.month ?? 1) - 1))
            case "getDate": return .int(Int64(c.day ?? 1))
            case "getDayOfMonth": return .int(Int64((c.day ?? 1) - 1))
            case "getDayOfWeek": return .int(Int64((c.weekday ?? 1) - 1))
            case "getDayOfYear": return .int(Int64((calendar.ordinality(of: .day, in: .year, for: date) ?? 1) - 1))
            case "getHours": return .int(Int64(c.hour ?? 0))
            case "getMinutes": return .int(Int64(c.minute ?? 0))
            case "getSeconds": return .int(Int64(c.second ?? 0))
            case "getMilliseconds": return .int(t.nanos / 1_000_000)
            default: return nil
            }
        default: return nil
        }
    }

    static func timeZone(_ z: String) -> TimeZone? {
        if let zone = TimeZone(identifier: z) { return zone }
        // "+05:30", "-08:00", "05:30"
        let sign: Int = z.hasPrefix("-") ? -1 : 1
        let digits = z.trimmingCharacters(in: CharacterSet(charactersIn: "+-")).split(separator: ":")
        guard digits.count == 2, let h = Int(digits[0]), let m = Int(digits[1]) else { return nil }
        return TimeZone(secondsFromGMT: sign * (h * 3600 + m * 60))
    }

    // MARK: conversions

    static func toInt(_ v: CELValue) -> CELValue {
        switch v {
        case .int: return v
        case .uint(let u): return u > UInt64(Int64.max) ? .error("integer overflow") : .int(Int64(u))
        case .double(let d):
            guard d.isFinite, d > -9.223372036854775808e18, d < 9.223372036854775807e18 else { return .error("integer overflow") }
            return .int(Int64(d))
        case .string(let s): return Int64(s).map { .int($0) } ?? .error("type conversion error from 'string' to 'int'")
        case .timestamp(let t): return .int(t.seconds)
        default: return CELValue.noOverload("int", [v])
        }
    }

    static func toUint(_ v: CELValue) -> CELValue {
        switch v {
        case .uint: return v
        case .int(let i): return i < 0 ? .error("unsigned integer overflow") : .uint(UInt64(i))
        case .double(let d):
            guard d.isFinite, d >= 0, d < 1.8446744073709552e19 else { return .error("unsigned integer overflow") }
            return .uint(UInt64(d))
        case .string(let s): return UInt64(s).map { .uint($0) } ?? .error("type conversion error from 'string' to 'uint'")
        default: return CELValue.noOverload("uint", [v])
        }
    }

    static func toDouble(_ v: CELValue) -> CELValue {
        switch v {
        case .double: return v
        case .int(let i): return .double(Double(i))
        case .uint(let u): return .double(Double(u))
        case .string(let s): return Double(s).map { .double($0) } ?? .error("type conversion error from 'string' to 'double'")
        default: return CELValue.noOverload("double", [v])
        }
    }

    static func toString(_ v: CELValue) -> CELValue {
        switch v {
        case .string: return v
        case .int, .uint, .bool, .timestamp: return .string(v.text)
        case .double(let d): return .string(d == d.rounded() && abs(d) < 1e21 ? String(format: "%.0f", d) : String(d))
        case .bytes(let b):
            guard let s = String(bytes: b, encoding: .utf8) else { return .error("invalid UTF-8 in bytes, cannot convert to string") }
            return .string(s)
        case .duration(let d): return .string(CELDuration.format(d))
        default: return CELValue.noOverload("string", [v])
        }
    }

    // MARK: strings (the standard functions and the strings extension)

    static func strings(_ name: String, _ args: [CELValue]) -> CELValue? {
        guard case .string(let s) = args.first else { return nil }
        func str(_ i: Int) -> String? { if i < args.count, case .string(let v) = args[i] { return v }; return nil }
        func int(_ i: Int) -> Int? { if i < args.count, case .int(let v) = args[i] { return Int(v) }; return nil }
        let scalars = Array(s.unicodeScalars)
        // The optional trailing int of indexOf, substring, replace and split must be an int.
        let optionalInt: [String: Int] = ["indexOf": 2, "lastIndexOf": 2, "substring": 2, "replace": 3, "split": 2]
        if let at = optionalInt[name], args.count == at + 1, int(at) == nil { return CELValue.noOverload(name, args) }
        switch (name, args.count) {
        // On bytes of UTF-8, not Swift's canonical equivalence.
        case ("contains", 2): return str(1).map { n in .bool(n.isEmpty || Self.find(Array(n.utf8), in: Array(s.utf8)) != nil) }
        case ("startsWith", 2): return str(1).map { .bool(s.utf8.starts(with: $0.utf8)) }
        case ("endsWith", 2): return str(1).map { .bool(s.utf8.reversed().starts(with: $0.utf8.reversed())) }
        case ("matches", 2):
            guard let pattern = str(1) else { return nil }
            do { return .bool(try GoRegexp(pattern).matches(s)) } catch { return .error("invalid regex: \(error)") }
        case ("lowerAscii", 1): return .string(String(String.UnicodeScalarView(scalars.map { $0.isASCII ? Unicode.Scalar(UInt8(ascii: $0).lowercasedASCII) : $0 })))
        case ("upperAscii", 1): return .string(String(String.UnicodeScalarView(scalars.map { $0.isASCII ? Unicode.Scalar(UInt8(ascii: $0).uppercasedASCII) : $0 })))
        case ("trim", 1): return .string(s.trimmingCharacters(in: .whitespacesAndNewlines))
        case ("charAt", 2):
            guard let i = int(1) else { return nil }
            guard i >= 0, i <= scalars.count else { return .error("index out of range: \(i)") }
            return .string(i == scalars.count ? "" : String(scalars[i]))
        case ("indexOf", 2), ("indexOf", 3), ("lastIndexOf", 2), ("lastIndexOf", 3):
            guard let needle = str(1) else { return nil }
            let n = Array(needle.unicodeScalars)
            let last = name == "lastIndexOf"
            let from = int(2) ?? (last ? scalars.count : 0)
            guard from >= 0, from <= scalars.count else { return .error("index out of range: \(from)") }
            let candidates = last ? Array(stride(from: min(from, scalars.count - n.count), through: 0, by: -1))
                : Array(stride(from: from, through: scalars.count - n.count, by: 1))
            for i in candidates where i >= 0 && i + n.count <= scalars.count && Array(scalars[i..<i + n.count]) == n { return .int(Int64(i)) }
            return .int(-1)
        case ("substring", 2), ("substring", 3):
            guard let start = int(1) else { return nil }
            let end = int(2) ?? scalars.count
            guard start >= 0, start <= end, end <= scalars.count else { return .error("index out of range: \(start < 0 || start > scalars.count ? start : end)") }
            return .string(String(String.UnicodeScalarView(scalars[start..<end])))
        case ("replace", 3), ("replace", 4):
            guard let old = str(1), let new = str(2) else { return nil }
            let limit = int(3) ?? -1
            if limit < 0 { return .string(s.replacingOccurrences(of: old, with: new)) }
            var out = s, done = 0, searchFrom = out.startIndex
            while done < limit, let r = out.range(of: old, range: searchFrom..<out.endIndex) {
                out.replaceSubrange(r, with: new)
                searchFrom = out.index(r.lowerBound, offsetBy: new.count)
                done += 1
            }
            return .string(out)
        case ("split", 2), ("split", 3):
            guard let separator = str(1) else { return nil }
            let limit = int(2) ?? -1
            if limit == 0 { return .list([]) }
            var parts = separator.isEmpty ? s.map { String($0) } : s.components(separatedBy: separator)
            if limit > 0, parts.count > limit { parts = Array(parts[..<(limit - 1)]) + [parts[(limit - 1)...].joined(separator: separator)] }
            return .list(parts.map { .string($0) })
        case ("reverse", 1): return .string(String(s.reversed()))
        case ("format", 2):
            guard case .list(let values) = args[1] else { return nil }
            return Formatter.format(s, values)
        default: return nil
        }
    }

    // MARK: lists, sets, math

    static func lists(_ name: String, _ args: [CELValue]) -> CELValue? {
        switch (name, args.count) {
        case ("join", 1), ("join", 2):
            guard case .list(let l) = args[0] else { return nil }
            var separator = ""
            if args.count == 2 { guard case .string(let s) = args[1] else { return nil }; separator = s }
            var parts: [String] = []
            for item in l { guard case .string(let s) = item else { return CELValue.noOverload("join", args) }; parts.append(s) }
            return .string(parts.joined(separator: separator))
        case ("isSorted", 1):
            guard case .list(let l) = args[0] else { return nil }
            for (a, b) in zip(l, l.dropFirst()) {
                guard let order = CELValue.compare(a, b) else { return CELValue.noOverload("isSorted", args) }
                if order > 0 { return .bool(false) }
            }
            return .bool(true)
        case ("sum", 1):
            guard case .list(let l) = args[0] else { return nil }
            return l.reduce(CELValue.int(0)) { acc, v in if case .int(0) = acc, !(v.typeName == "int") { return v }; return add(acc, v) }
        case ("min", 1), ("max", 1):
            guard case .list(let l) = args[0] else { return nil }
            guard var best = l.first else { return .error("\(name)(list) argument must not be empty") }
            for v in l.dropFirst() {
                guard let order = CELValue.compare(v, best) else { return CELValue.noOverload(name, args) }
                if (name == "min" && order < 0) || (name == "max" && order > 0) { best = v }
            }
            return best
        case ("indexOf", 2), ("lastIndexOf", 2):
            guard case .list(let l) = args[0] else { return nil }
            let found = name == "indexOf" ? l.firstIndex { CELValue.equal($0, args[1]) } : l.lastIndex { CELValue.equal($0, args[1]) }
            return .int(Int64(found ?? -1))
        case ("math.greatest", _), ("math.least", _):
            let values: [CELValue]
            if args.count == 1, case .list(let l) = args[0] { values = l } else { values = args }
            guard var best = values.first else { return .error("\(name)() requires at least one argument") }
            for v in values.dropFirst() {
                guard let order = CELValue.compareNumbers(v, best) else { return CELValue.noOverload(name, args) }
                if (name == "math.least" && order < 0) || (name == "math.greatest" && order > 0) { best = v }
            }
            return best
        case ("math.abs", 1):
            switch args[0] {
            case .int(let i): return i == .min ? .error("integer overflow") : .int(abs(i))
            case .double(let d): return .double(abs(d))
            case .uint: return args[0]
            default: return nil
            }
        case ("math.ceil", 1), ("math.floor", 1), ("math.round", 1), ("math.trunc", 1),
             ("math.isNaN", 1), ("math.isInf", 1), ("math.isFinite", 1):
            guard case .double(let d) = args[0] else { return CELValue.noOverload(name, args) }
            switch name {
            case "math.ceil": return .double(d.rounded(.up))
            case "math.floor": return .double(d.rounded(.down))
            case "math.round": return .double(d.rounded(.toNearestOrAwayFromZero))
            case "math.trunc": return .double(d.rounded(.towardZero))
            case "math.isNaN": return .bool(d.isNaN)
            case "math.isInf": return .bool(d.isInfinite)
            default: return .bool(d.isFinite)
            }
        case ("strings.quote", 1):
            guard case .string(let text) = args[0] else { return CELValue.noOverload(name, args) }
            var out = "\""
            for scalar in text.unicodeScalars {
                switch scalar {
                case "\u{07}": out += "\\a"
                case "\u{08}": out += "\\b"
                case "\u{0C}": out += "\\f"
                case "\n": out += "\\n"
                case "\r": out += "\\r"
                case "\t": out += "\\t"
                case "\u{0B}": out += "\\v"
                case "\\": out += "\\\\"
                case "\"": out += "\\\""
                default: out.unicodeScalars.append(scalar)
                }
            }
            return .string(out + "\"")
        case ("math.sign", 1):
            switch args[0] {
            case .int(let i): return .int(i.signum())
            case .uint(let u): return .uint(u == 0 ? 0 : 1)
            case .double(let d): return .double(d.isNaN ? d : d > 0 ? 1 : d < 0 ? -1 : 0)
            default: return CELValue.noOverload(name, args)
            }
        case ("math.bitAnd", 2), ("math.bitOr", 2), ("math.bitXor", 2):
            func apply<T: FixedWidthInteger>(_ x: T, _ y: T) -> T { name == "math.bitAnd" ? x & y : name == "math.bitOr" ? x | y : x ^ y }
            switch (args[0], args[1]) {
            case (.int(let x), .int(let y)): return .int(apply(x, y))
            case (.uint(let x), .uint(let y)): return .uint(apply(x, y))
            default: return CELValue.noOverload(name, args)
            }
        case ("math.bitNot", 1):
            switch args[0] {
            case .int(let x): return .int(~x)
            case .uint(let x): return .uint(~x)
            default: return CELValue.noOverload(name, args)
            }
        case ("math.bitShiftLeft", 2), ("math.bitShiftRight", 2):
            guard case .int(let shift) = args[1] else { return CELValue.noOverload(name, args) }
            if shift < 0 { return .error("\(name)() negative offset: \(shift)") }
            let left = name == "math.bitShiftLeft"
            // Right shifts are logical (an int's sign bit moves too), as cel-go's.
            switch args[0] {
            case .int(let x):
                if shift > 63 { return .int(0) }
                return .int(left ? x << shift : Int64(bitPattern: UInt64(bitPattern: x) >> UInt64(shift)))
            case .uint(let x):
                if shift > 63 { return .uint(0) }
                return .uint(left ? x << UInt64(shift) : x >> UInt64(shift))
            default: return CELValue.noOverload(name, args)
            }
        case ("sets.contains", 2), ("sets.intersects", 2), ("sets.equivalent", 2):
            guard case .list(let a) = args[0], case .list(let b) = args[1] else { return nil }
            let inA = { (v: CELValue) in a.contains { CELValue.equal($0, v) } }
            switch name {
            case "sets.contains": return .bool(b.allSatisfy(inA))
            case "sets.intersects": return .bool(b.contains(where: inA))
            default: return .bool(b.allSatisfy(inA) && a.allSatisfy { v in b.contains { CELValue.equal($0, v) } })
            }
        default: return nil
        }
    }
}

extension CELLibrary {
    /// Where `needle` first occurs in `haystack`.
    static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        return (0...(haystack.count - needle.count)).first { haystack[$0..<$0 + needle.count].elementsEqual(needle) }
    }
}

extension UInt8 {
    var lowercasedASCII: UInt8 { (65...90).contains(self) ? self + 32 : self }
    var uppercasedASCII: UInt8 { (97...122).contains(self) ? self - 32 : self }
}

/// The strings extension's format(): %s, %d, %f, %e, %b, %o, %x, %X (with a precision for %f and
/// %e) and %%, each value written as cel-go writes it.
enum Formatter {
    static func format(_ template: String, _ values: [CELValue]) -> CELValue {
        var out = "", index = 0
        var chars = Array(template)[...]
        while let c = chars.popFirst() {
            guard c == "%" else { out.append(c); continue }
            var precision: Int? = nil
            if chars.first == "." {
                chars.removeFirst()
                var digits = ""
                while let d = chars.first, d.isNumber { digits.append(d); chars.removeFirst() }
                precision = Int(digits) ?? 0
            }
            guard let verb = chars.popFirst() else { return .error("error during formatting: unexpected end of format string") }
            if verb == "%" { out.append("%"); continue }
            guard index < values.count else { return .error("error during formatting: index \(index) out of range") }
            let value = values[index]
            index += 1
            switch clause(verb, value, precision) {
            case .success(let text): out += text
            case .failure(let error): return .error("error during formatting: \(error.message)")
            }
        }
        return .string(out)
    }

    struct Failure: Error { let message: String }

    static func special(_ d: Double) -> String? {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d > 0 ? "Infinity" : "-Infinity" }
        return nil
    }

    static func clause(_ verb: Character, _ v: CELValue, _ precision: Int?) -> Result<String, Failure> {
        switch verb {
        case "s": return text(v).map { .success($0) } ?? .failure(Failure(message: "string clause can only be used on strings, bools, bytes, ints, doubles, maps, lists, types, durations, and timestamps, was given \(v.typeName)"))
        case "d":
            switch v {
            case .int(let i): return .success(String(i))
            case .uint(let u): return .success(String(u))
            case .double(let d) where special(d) != nil: return .success(special(d)!)
            default: return .failure(Failure(message: "decimal clause can only be used on integers, was given \(v.typeName)"))
            }
        case "f", "e":
            let p = precision ?? 6
            guard let d = v.asDouble else { return .failure(Failure(message: "\(verb == "f" ? "fixed-point" : "scientific") clause can only be used on doubles, was given \(v.typeName)")) }
            if let s = special(d) { return .success(s) }
            return .success(String(format: verb == "f" ? "%.\(p)f" : "%.\(p)e", d))
        case "b", "o", "x", "X":
            let radix = verb == "b" ? 2 : verb == "o" ? 8 : 16
            switch v {
            case .int(let i): return .success((i < 0 ? "-" : "") + cased(String(i.magnitude, radix: radix), verb))
            case .uint(let u): return .success(cased(String(u, radix: radix), verb))
            case .bool(let b) where verb == "b": return .success(b ? "1" : "0")
            case .string(let s) where radix == 16: return .success(cased(s.utf8.map { String(format: "%02x", $0) }.joined(), verb))
            case .bytes(let b) where radix == 16: return .success(cased(b.map { String(format: "%02x", $0) }.joined(), verb))
            default: return .failure(Failure(message: "only integers\(verb == "b" ? " and bools" : radix == 16 ? ", byte buffers, and strings" : "") can be formatted as \(verb == "b" ? "binary" : verb == "o" ? "octal" : "hex"), was given \(v.typeName)"))
            }
        default: return .failure(Failure(message: "could not parse formatting clause: unrecognized formatting clause \"\(verb)\""))
        }
    }

    static func cased(_ s: String, _ verb: Character) -> String { verb == "X" ? s.uppercased() : s }

    /// A value as %s writes it; nil for what it cannot write.
    static func text(_ v: CELValue) -> String? {
        switch v {
        case .string(let s): return s
        case .bytes(let b): return String(decoding: b, as: UTF8.self)
        case .int(let i): return String(i)
        case .uint(let u): return String(u)
        case .bool(let b): return String(b)
        case .null: return "null"
        case .double(let d):
            if let s = special(d) { return s }
            return d == d.rounded() && abs(d) < 1e21 ? String(format: "%.0f", d) : String(d)
        case .type(let t): return t
        case .timestamp: return v.text
        case .duration(let d): return CELDuration.format(d)
        case .list(let l):
            var parts: [String] = []
            for item in l { guard let t = text(item) else { return nil }; parts.append(t) }
            return "[" + parts.joined(separator: ", ") + "]"
        case .map(let m):
            var parts: [(String, String)] = []
            for entry in m { guard let k = text(entry.key), let value = text(entry.value) else { return nil }; parts.append((k, value)) }
            return "{" + parts.sorted { $0.0 < $1.0 }.map { "\($0.0): \($0.1)" }.joined(separator: ", ") + "}"
        case .opaque(_, let value): return value
        case .error: return nil
        }
    }
}
