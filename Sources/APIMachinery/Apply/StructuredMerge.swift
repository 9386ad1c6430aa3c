/// Server-side apply's merge: an applied configuration laid over the live object through the
/// schema. Structs and maps merge by field, "map" lists by their keys (applied items merge into
/// the live item with the same keys, new ones are appended), "set" lists by value; atomic lists
/// and scalars are replaced. Then fields the applier stopped applying are removed by path.
public struct StructuredMerge: Sendable {
    public let typed: TypedFields

    public init(typed: TypedFields) { self.typed = typed }

    public func merge(_ applied: JSON, into live: JSON, schemaName: String?) -> JSON {
        merge(applied, into: live, schema: schemaName.flatMap { typed.definitions[$0] })
    }

    private func merge(_ applied: JSON, into live: JSON, schema: JSON?) -> JSON {
        let s = typed.resolve(schema)
        switch (applied, live) {
        case (.object(let members), .object(var result)) where s?["x-kubernetes-map-type"] != "atomic":
            let isMap = s?["properties"].isNull == true && !(s?["additionalProperties"].isNull ?? true)
            for (key, value) in members {
                let childSchema = isMap ? s?["additionalProperties"] : s?["properties"][key]
                result[key] = result[key].map { merge(value, into: $0, schema: childSchema) } ?? value
            }
            return .object(result)
        case (.array(let items), .array(var result)):
            let mergeKey = s?["x-kubernetes-patch-merge-key"].string
            switch s?["x-kubernetes-list-type"].string ?? (mergeKey != nil ? "map" : "atomic") {
            case "map":
                let keys = s?["x-kubernetes-list-map-keys"].array?.compactMap(\.string) ?? mergeKey.map { [$0] } ?? []
                let itemSchema = typed.resolve(s?["items"])
                // Each live item's key is worked out once and found through an index, not by a
                // scan per applied item.
                var positions: [[String: JSON]: Int] = [:]
                for (i, item) in result.enumerated() {
                    let key = typed.key(of: item, keys, itemSchema: itemSchema)
                    if positions[key] == nil { positions[key] = i }
                }
                for item in items {
                    let key = typed.key(of: item, keys, itemSchema: itemSchema)
                    if let i = positions[key] {
                        result[i] = merge(item, into: result[i], schema: s?["items"])
                    } else {
                        result.append(item)
                        positions[key] = result.count - 1
                    }
                }
                return .array(result)
            case "set":
                var seen = Set(result)
                for item in items where seen.insert(item).inserted { result.append(item) }
                return .array(result)
            default:
                return applied
            }
        default:
            return applied
        }
    }

    /// Removes the values at a set's member paths, in one walk of the object: a list loses all
    /// its doomed items at once, found through an index of their keys. Paths that are not there
    /// leave the object as it is.
    public static func remove(_ doomed: FieldSet, from value: inout JSON) {
        guard !doomed.children.isEmpty else { return }
        if var members = value.takeObject() {
            for (element, child) in doomed.children where element.hasPrefix("f:") {
                let key = String(element.dropFirst(2))
                guard members[key] != nil else { continue }
                if child.isMember { members[key] = nil } else { remove(child, from: &members[key, default: .null]) }
            }
            value = .object(members)
        } else if var items = value.takeArray() {
            var dropped = Set<Int>()
            for (i, child) in matches(doomed, in: items) {
                if child.isMember { dropped.insert(i) } else { remove(child, from: &items[i]) }
            }
            if !dropped.isEmpty { items = items.indices.filter { !dropped.contains($0) }.map { items[$0] } }
            value = .array(items)
        }
    }

    /// The list items a set's path elements name, each element matching the first item it fits:
    /// `k:` by the item's key fields, `v:` by value, `i:` by position.
    static func matches(_ set: FieldSet, in items: [JSON]) -> [(Int, FieldSet)] {
        var found: [(Int, FieldSet)] = []
        var byKey: [[String]: [[JSON]: FieldSet]] = [:]  // key field names -> their values -> element
        var byValue: [JSON: FieldSet] = [:]
        for (element, child) in set.children {
            let body = String(element.dropFirst(2))
            if element.hasPrefix("k:"), case .object(let keys)? = try? JSON.parse(body) {
                let names = keys.keys.sorted()
                byKey[names, default: [:]][names.map { keys[$0]! }] = child
            } else if element.hasPrefix("v:"), let v = try? JSON.parse(body) {
                byValue[v] = child
            } else if element.hasPrefix("i:"), let i = Int(body), items.indices.contains(i) {
                found.append((i, child))
            }
        }
        for (names, elements) in byKey {
            var wanted = elements
            for (i, item) in items.enumerated() {
                if let child = wanted.removeValue(forKey: names.map { item[$0] }) { found.append((i, child)) }
                if wanted.isEmpty { break }
            }
        }
        if !byValue.isEmpty {
            for (i, item) in items.enumerated() {
                if let child = byValue.removeValue(forKey: item) { found.append((i, child)) }
            }
        }
        return found
    }

    /// A path as upstream prints it in conflicts: `.spec.template.spec.containers[name="web"].image`.
    public static func describe(_ path: [String]) -> String {
        path.map { element -> String in
            let body = String(element.dropFirst(2))
            switch element.prefix(2) {
            case "f:": return "." + body
            case "k:":
                guard case .object(let keys)? = try? JSON.parse(body) else { return "[\(body)]" }
                return "[" + keys.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.jsonString)" }.joined(separator: ",") + "]"
            case "v:": return "[=\(body)]"
            default: return "[\(body)]"
            }
        }.joined()
    }
}
