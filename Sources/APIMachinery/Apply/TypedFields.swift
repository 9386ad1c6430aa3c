/// The fields an object sets, read through its OpenAPI schema the way server-side apply reads
/// them: structs by field, maps by key (the map itself a member), lists by their
/// x-kubernetes-list-type (items of "map" lists by their keys, "set" lists by value, "atomic"
/// lists whole). Lists with a strategic merge key and no list type are keyed by it, as upstream
/// converts them. Without a schema, objects are walked field by field and lists are atomic.
public struct TypedFields: Sendable {
    /// OpenAPI definitions by name, where `$ref` members point.
    public let definitions: SchemaDefinitions

    public init(definitions: SchemaDefinitions) { self.definitions = definitions }
    public init(definitions: [String: JSON]) { self.definitions = SchemaDefinitions(definitions) }

    /// Every member path of `object`, with its value for leaves and `.null` for members that are
    /// containers (a map, a keyed list item), whose changes show in their children.
    public func members(of object: JSON, schemaName: String?) -> [[String]: JSON] {
        var out: [[String]: JSON] = [:]
        walk(object, schema: schemaName.flatMap { definitions[$0] }, path: [], into: &out)
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

    private func walk(_ value: JSON, schema: JSON?, path: [String], into out: inout [[String]: JSON]) {
        let s = resolve(schema)
        switch value {
        case .object(let members):
            if members.isEmpty || s?["x-kubernetes-map-type"] == "atomic" { out[path] = value; return }
            let isMap = s?["properties"].isNull == true && !(s?["additionalProperties"].isNull ?? true)
            if isMap { out[path] = .null }
            for (key, child) in members {
                let childSchema = isMap ? s?["additionalProperties"] : s?["properties"][key]
                walk(child, schema: childSchema, path: path + ["f:" + key], into: &out)
            }
        case .array(let items):
            let mergeKey = s?["x-kubernetes-patch-merge-key"].string
            let listType = s?["x-kubernetes-list-type"].string ?? (mergeKey != nil ? "map" : "atomic")
            if items.isEmpty { out[path] = value; return }
            switch listType {
            case "map":
                let keys = s?["x-kubernetes-list-map-keys"].array?.compactMap(\.string) ?? mergeKey.map { [$0] } ?? []
                let itemSchema = resolve(s?["items"])
                for item in items {
                    var key: [String: JSON] = [:]
                    for k in keys where !item[k].isNull { key[k] = item[k] }
                    let element = "k:" + JSON.object(key).jsonString
                    out[path + [element]] = .null
                    for (field, child) in item.object ?? [:] {
                        walk(child, schema: itemSchema?["properties"][field], path: path + [element, "f:" + field], into: &out)
                    }
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
