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
                // Each live item's key is worked out once, not once per applied item.
                var liveKeys = result.map { typed.key(of: $0, keys, itemSchema: itemSchema) }
                for item in items {
                    let key = typed.key(of: item, keys, itemSchema: itemSchema)
                    if let i = liveKeys.firstIndex(of: key) {
                        result[i] = merge(item, into: result[i], schema: s?["items"])
                    } else {
                        result.append(item)
                        liveKeys.append(key)
                    }
                }
                return .array(result)
            case "set":
                for item in items where !result.contains(item) { result.append(item) }
                return .array(result)
            default:
                return applied
            }
        default:
            return applied
        }
    }

    /// Removes the value at a FieldsV1 path; a path that is not there leaves the object as it is.
    public static func remove(_ path: ArraySlice<String>, from value: inout JSON) {
        guard let element = path.first else { return }
        let rest = path.dropFirst()
        switch value {
        case .object(var members):
            guard element.hasPrefix("f:") else { return }
            let key = String(element.dropFirst(2))
            guard var child = members[key] else { return }
            value = .null
            if rest.isEmpty { members[key] = nil } else { remove(rest, from: &child); members[key] = child }
            value = .object(members)
        case .array(var items):
            guard let i = index(of: element, in: items) else { return }
            value = .null
            if rest.isEmpty { items.remove(at: i) } else { remove(rest, from: &items[i]) }
            value = .array(items)
        default:
            return
        }
    }

    static func index(of element: String, in items: [JSON]) -> Int? {
        let body = String(element.dropFirst(2))
        if element.hasPrefix("k:"), case .object(let keys)? = try? JSON.parse(body) {
            return items.firstIndex { item in keys.allSatisfy { item[$0.key] == $0.value } }
        }
        if element.hasPrefix("v:"), let v = try? JSON.parse(body) { return items.firstIndex(of: v) }
        if element.hasPrefix("i:"), let i = Int(body), items.indices.contains(i) { return i }
        return nil
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
