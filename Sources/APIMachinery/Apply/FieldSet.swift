/// A set of field paths, as server-side apply tracks ownership: the tree the FieldsV1 format
/// writes (`{"f:spec":{"f:replicas":{}}}`). Path elements are kept in their FieldsV1 spelling:
/// `f:name` a field, `k:{"name":"web"}` a list item by its keys, `v:"x"` a set member, `i:3` an
/// item of a list without keys. A node is itself a member when it is a leaf or carries ".".
public struct FieldSet: Equatable, Sendable {
    public var isMember = false
    public var children: [String: FieldSet] = [:]

    public init() {}

    public var isEmpty: Bool { !isMember && children.isEmpty }

    public init(paths: some Sequence<[String]>) {
        for path in paths { insert(path) }
    }

    public mutating func insert(_ path: some Collection<String>) {
        guard let first = path.first else { isMember = true; return }
        children[first, default: FieldSet()].insert(path.dropFirst())
    }

    public func contains(_ path: some Collection<String>) -> Bool {
        guard let first = path.first else { return isMember }
        return children[first]?.contains(path.dropFirst()) ?? false
    }

    /// Every member path.
    public var paths: [[String]] {
        var out: [[String]] = isMember ? [[]] : []
        for (key, child) in children.sorted(by: { $0.key < $1.key }) {
            out += child.paths.map { [key] + $0 }
        }
        return out
    }

    public func union(_ other: FieldSet) -> FieldSet {
        var result = self
        result.isMember = isMember || other.isMember
        for (key, child) in other.children {
            result.children[key] = result.children[key].map { $0.union(child) } ?? child
        }
        return result
    }

    public func subtracting(_ other: FieldSet) -> FieldSet {
        var result = self
        if other.isMember { result.isMember = false }
        for (key, child) in other.children {
            guard let mine = result.children[key] else { continue }
            let rest = mine.subtracting(child)
            result.children[key] = rest.isEmpty ? nil : rest
        }
        return result
    }

    public func intersection(_ other: FieldSet) -> FieldSet {
        var result = FieldSet()
        result.isMember = isMember && other.isMember
        for (key, child) in children {
            guard let theirs = other.children[key] else { continue }
            let both = child.intersection(theirs)
            if !both.isEmpty { result.children[key] = both }
        }
        return result
    }

    // MARK: FieldsV1

    /// The FieldsV1 JSON form: a leaf is `{}`, a member with children also has `".": {}`.
    public var fieldsV1: JSON {
        var members: [String: JSON] = [:]
        for (key, child) in children { members[key] = child.fieldsV1 }
        if isMember && !children.isEmpty { members["."] = .emptyObject }
        return .object(members)
    }

    public init(fieldsV1 json: JSON) throws(StatusError) {
        guard case .object(let members) = json else {
            throw .badRequest("managedFields: fieldsV1 must be an object")
        }
        if members.isEmpty { isMember = true; return }
        for (key, value) in members {
            if key == "." { isMember = true; continue }
            guard let prefix = key.split(separator: ":", maxSplits: 1).first, ["f", "k", "v", "i"].contains(prefix), key.count > 2 else {
                throw .badRequest("managedFields: unknown path element \(key) in fieldsV1")
            }
            children[key] = try FieldSet(fieldsV1: value)
        }
    }
}
