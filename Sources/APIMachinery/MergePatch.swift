import Foundation

/// JSON merge patch (RFC 7386): objects merge member by member, null removes, anything else replaces.
public enum MergePatch {
    public static func apply(_ patch: JSON, to target: JSON) -> JSON {
        var result = target
        apply(patch, to: &result)
        return result
    }

    /// In place, so each member is merged into storage of its own: one pass over the patch, no
    /// copies of the target's maps however many keys they hold.
    static func apply(_ patch: JSON, to target: inout JSON) {
        guard case .object(let members) = patch else { target = patch; return }
        var result = target.takeObject() ?? [:]
        result.reserveCapacity(result.count + members.count)
        for (key, value) in members {
            if value.isNull { result.removeValue(forKey: key) }
            else { apply(value, to: &result[key, default: .null]) }
        }
        target = .object(result)
    }
}

/// JSON patch (RFC 6902): add, remove, replace, move, copy and test on JSON pointers. Each
/// operation changes the document in place, so a patch costs its operations' paths, not the
/// document's size once per operation.
public enum JSONPatch {
    /// Upstream's cap on one patch's operations (more are refused before any is applied).
    public static let maxOperations = 10_000

    public static func apply(_ patch: JSON, to target: JSON, maxOperations: Int = JSONPatch.maxOperations) throws(StatusError) -> JSON {
        guard case .array(let operations) = patch else {
            throw .badRequest("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
        }
        if operations.count > maxOperations {
            throw StatusError(code: 413, reason: "RequestEntityTooLarge",
                              message: "The allowed maximum operations in a JSON patch is \(maxOperations), got \(operations.count)")
        }
        var doc = target
        for op in operations {
            guard let kind = op["op"].string else { throw .badRequest("Unexpected kind: unknown") }
            let path = try pointer(op["path"], kind)
            switch kind {
            case "add": try add(&doc, path[...], op["value"], path)
            case "remove": _ = try remove(&doc, path[...], path)
            case "replace": try replace(&doc, path[...], op["value"], path)
            case "move":
                let from = try pointer(op["from"], kind)
                let value = try remove(&doc, from[...], from)
                try add(&doc, path[...], value, path)
            case "copy":
                let from = try pointer(op["from"], kind)
                try add(&doc, path[...], try get(doc, from), path)
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

    /// Walks to the container the path's last token names a member of and hands it over for
    /// changing in place: each level's storage is moved out on the way down (so it is held once
    /// and changes without a copy) and put back on the way up.
    static func change(_ doc: inout JSON, _ path: ArraySlice<String>, _ full: [String],
                       _ body: (inout JSON, String) throws(StatusError) -> Void) throws(StatusError) {
        guard let token = path.first else { throw missing(full) }
        let rest = path.dropFirst()
        if rest.isEmpty { return try body(&doc, token) }
        if var o = doc.takeObject() {
            defer { doc = .object(o) }
            guard o[token] != nil else { throw missing(full) }
            try change(&o[token, default: .null], rest, full, body)  // this subscript changes in place
        } else if var a = doc.takeArray() {
            defer { doc = .array(a) }
            guard let i = Int(token), i >= 0, i < a.count else { throw missing(full) }
            try change(&a[i], rest, full, body)
        } else {
            throw missing(full)
        }
    }

    static func add(_ doc: inout JSON, _ path: ArraySlice<String>, _ value: JSON, _ full: [String]) throws(StatusError) {
        if path.isEmpty { doc = value; return }
        try change(&doc, path, full) { (container: inout JSON, token: String) throws(StatusError) in
            if var o = container.takeObject() {
                o[token] = value
                container = .object(o)
            } else if var a = container.takeArray() {
                defer { container = .array(a) }
                guard let i = token == "-" ? a.count : Int(token), i >= 0, i <= a.count else { throw missing(full) }
                a.insert(value, at: i)
            } else {
                throw missing(full)
            }
        }
    }

    /// RFC 6902's replace is a remove then an add at the same place: the value is set where it is.
    static func replace(_ doc: inout JSON, _ path: ArraySlice<String>, _ value: JSON, _ full: [String]) throws(StatusError) {
        if path.isEmpty { doc = value; return }
        try change(&doc, path, full) { (container: inout JSON, token: String) throws(StatusError) in
            if var o = container.takeObject() {
                defer { container = .object(o) }
                guard o[token] != nil else { throw missing(full) }
                o[token] = value
            } else if var a = container.takeArray() {
                defer { container = .array(a) }
                guard let i = Int(token), i >= 0, i < a.count else { throw missing(full) }
                a[i] = value
            } else {
                throw missing(full)
            }
        }
    }

    static func remove(_ doc: inout JSON, _ path: ArraySlice<String>, _ full: [String]) throws(StatusError) -> JSON {
        var removed = JSON.null
        try change(&doc, path, full) { (container: inout JSON, token: String) throws(StatusError) in
            if var o = container.takeObject() {
                defer { container = .object(o) }
                guard let v = o.removeValue(forKey: token) else { throw missing(full) }
                removed = v
            } else if var a = container.takeArray() {
                defer { container = .array(a) }
                guard let i = Int(token), i >= 0, i < a.count else { throw missing(full) }
                removed = a.remove(at: i)
            } else {
                throw missing(full)
            }
        }
        return removed
    }
}
