import Foundation

/// JSON merge patch (RFC 7386): objects merge member by member, null removes, anything else replaces.
public enum MergePatch {
    public static func apply(_ patch: JSON, to target: JSON) -> JSON {
        guard case .object(let members) = patch else { return patch }
        var result: [String: JSON]
        if case .object(let o) = target { result = o } else { result = [:] }
        for (key, value) in members {
            if value.isNull { result.removeValue(forKey: key) }
            else { result[key] = apply(value, to: result[key] ?? .null) }
        }
        return .object(result)
    }
}

/// JSON patch (RFC 6902): add, remove, replace, move, copy and test on JSON pointers.
public enum JSONPatch {
    public static func apply(_ patch: JSON, to target: JSON) throws(StatusError) -> JSON {
        guard case .array(let operations) = patch else {
            throw .badRequest("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
        }
        var doc = target
        for op in operations {
            guard let kind = op["op"].string else { throw .badRequest("Unexpected kind: unknown") }
            let path = try pointer(op["path"], kind)
            switch kind {
            case "add": doc = try add(doc, path, op["value"])
            case "remove": doc = try remove(doc, path).0
            case "replace":
                _ = try get(doc, path)
                doc = try remove(doc, path).0
                doc = try add(doc, path, op["value"])
            case "move":
                let from = try pointer(op["from"], kind)
                let (d, v) = try remove(doc, from)
                doc = try add(d, path, v)
            case "copy":
                doc = try add(doc, path, try get(doc, try pointer(op["from"], kind)))
            case "test":
                let actual = try? get(doc, path)
                if actual != op["value"] && !(actual == nil && op["value"].isNull) {
                    throw StatusError(code: 422, reason: "Invalid", message: "the server rejected our request due to an error in our request",
                                      details: ["causes": [["message": .string("testing value /\(path.joined(separator: "/")) failed: test failed")]]])
                }
            default: throw .badRequest("Unexpected kind: \(kind)")
            }
        }
        return doc
    }

    static func pointer(_ value: JSON, _ op: String) throws(StatusError) -> [String] {
        guard let s = value.string else { throw .badRequest("operation \(op) is missing path") }
        if s.isEmpty { return [] }
        guard s.hasPrefix("/") else { throw .badRequest("JSON pointer must be empty or start with a \"/\": \(s)") }
        return s.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
            $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
        }
    }

    static func missing(_ path: [String]) -> StatusError {
        StatusError(code: 422, reason: "Invalid", message: "the server rejected our request due to an error in our request",
                    details: ["causes": [["message": .string("doc is missing path: \"/\(path.joined(separator: "/"))\": missing value")]]])
    }

    static func get(_ doc: JSON, _ path: [String]) throws(StatusError) -> JSON {
        var node = doc
        for token in path {
            switch node {
            case .object(let o): guard let v = o[token] else { throw missing(path) }; node = v
            case .array(let a): guard let i = Int(token), i >= 0, i < a.count else { throw missing(path) }; node = a[i]
            default: throw missing(path)
            }
        }
        return node
    }

    static func add(_ doc: JSON, _ path: [String], _ value: JSON) throws(StatusError) -> JSON {
        guard let token = path.first else { return value }
        let rest = Array(path.dropFirst())
        switch doc {
        case .object(var o):
            if rest.isEmpty { o[token] = value; return .object(o) }
            guard let child = o[token] else { throw missing(path) }
            o[token] = try add(child, rest, value)
            return .object(o)
        case .array(var a):
            if rest.isEmpty {
                if token == "-" { a.append(value); return .array(a) }
                guard let i = Int(token), i >= 0, i <= a.count else { throw missing(path) }
                a.insert(value, at: i)
                return .array(a)
            }
            guard let i = Int(token), i >= 0, i < a.count else { throw missing(path) }
            a[i] = try add(a[i], rest, value)
            return .array(a)
        default: throw missing(path)
        }
    }

    static func remove(_ doc: JSON, _ path: [String]) throws(StatusError) -> (JSON, JSON) {
        guard let token = path.first else { throw missing(path) }
        let rest = Array(path.dropFirst())
        switch doc {
        case .object(var o):
            guard let child = o[token] else { throw missing(path) }
            if rest.isEmpty { o.removeValue(forKey: token); return (.object(o), child) }
            let (updated, removed) = try remove(child, rest)
            o[token] = updated
            return (.object(o), removed)
        case .array(var a):
            guard let i = Int(token), i >= 0, i < a.count else { throw missing(path) }
            if rest.isEmpty { let v = a.remove(at: i); return (.array(a), v) }
            let (updated, removed) = try remove(a[i], rest)
            a[i] = updated
            return (.array(a), removed)
        default: throw missing(path)
        }
    }
}
