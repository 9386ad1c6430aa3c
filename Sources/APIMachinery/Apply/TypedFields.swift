/// The fields an object sets, read through its OpenAPI schema the way server-side apply reads
/// them: structs by field, maps by key (the map itself a member of an Update's set), lists by their
/// x-kubernetes-list-type (items of "map" lists by their keys, "set" lists by value, "atomic"
/// lists whole). Lists with a strategic merge key and no list type are keyed by it, as upstream
/// converts them. Without a schema, objects are walked field by field and lists are atomic.
public struct TypedFields: Sendable {
    /// OpenAPI definitions by name, where `$ref` members point.
    public let definitions: SchemaDefinitions

    public init(definitions: SchemaDefinitions) { self.definitions = definitions }
    public init(definitions: [String: JSON]) { self.definitions = SchemaDefinitions(definitions) }

    /// Which managedFields operation a set is for. An Update's set records the maps a write added
    /// (`.` in FieldsV1) and empty lists as values; an Apply's set, as structured-merge-diff
    /// computes it from the applied configuration, holds leaves, empty maps, a map's entries and
    /// keyed list items, never a struct or a non-empty map of declared fields itself, nor an empty
    /// keyed list: applying `data: {}` owns `data` alone, not what another manager set under it.
    public enum Operation: Sendable { case update, apply }

    /// Every member path of `object`, with its value for leaves and `.null` for members that are
    /// containers (a map, a keyed list item), whose changes show in their children.
    public func members(of object: JSON, schemaName: String?, for operation: Operation = .update) -> [[String]: JSON] {
        var out: [[String]: JSON] = [:]
        walk(object, schema: schemaName.flatMap { definitions[$0] }, path: [], operation: operation, into: &out)
        out[[]] = nil
        return out
    }

    public func fieldSet(of object: JSON, schemaName: String?) -> FieldSet {
        FieldSet(paths: members(of: object, schemaName: schemaName).keys)
    }

    func resolve(_ schema: JSON?) -> JSON? {
        guard let schema, !schema.isNull else { return nil }
        if let ref = schema["$ref"].string { return definitions[ref] }
        if let all = schema["allOf"].array, let first = all.first { return resolve(first) }
        return schema
    }

    /// A "map" list item's key: its key fields, those it leaves out taking their schema default as
    /// structured-merge-diff reads them (a container port without a protocol is the TCP one).
    func key(of item: JSON, _ keys: [String], itemSchema: JSON?) -> [String: JSON] {
        var key: [String: JSON] = [:]
        for k in keys {
            if !item[k].isNull {
                key[k] = item[k]
            } else if let value = itemSchema?["properties"][k]["default"], !value.isNull {
                key[k] = value
            }
        }
        return key
    }

    private func walk(_ value: JSON, schema: JSON?, path: [String], operation: Operation, into out: inout [[String]: JSON]) {
        let s = resolve(schema)
        switch value {
        case .object(let members):
            if members.isEmpty || s?["x-kubernetes-map-type"] == "atomic" { out[path] = value; return }
            let isMap = s?["properties"].isNull == true && !(s?["additionalProperties"].isNull ?? true)
            if isMap, operation == .update { out[path] = .null }
            for (key, child) in members {
                let declared = isMap ? nil : s?["properties"][key]
                let childPath = path + ["f:" + key]
                walk(child, schema: isMap ? s?["additionalProperties"] : declared, path: childPath, operation: operation, into: &out)
                // structured-merge-diff's Apply set holds a map's own entries (a key no schema
                // declares) as members, whatever their values, but not a struct's fields.
                if operation == .apply, declared == nil || declared?.isNull == true, out[childPath] == nil { out[childPath] = .null }
            }
        case .array(let items):
            let mergeKey = s?["x-kubernetes-patch-merge-key"].string
            let listType = s?["x-kubernetes-list-type"].string ?? (mergeKey != nil ? "map" : "atomic")
            if items.isEmpty {
                if operation == .update || listType == "atomic" { out[path] = value }
                return
            }
            switch listType {
            case "map":
                let keys = s?["x-kubernetes-list-map-keys"].array?.compactMap(\.string) ?? mergeKey.map { [$0] } ?? []
                let itemSchema = resolve(s?["items"])
                for item in items {
                    let element = "k:" + JSON.object(key(of: item, keys, itemSchema: itemSchema)).jsonString
                    walk(item, schema: itemSchema, path: path + [element], operation: operation, into: &out)
                    out[path + [element]] = .null
                }
            case "set":
                for item in items { out[path + ["v:" + item.jsonString]] = item }
            default:
                out[path] = value
            }
        default:
            out[path] = value
        }
    }
}
