/// Strategic merge patch for built-in types: like a merge patch, but lists the schema marks with a
/// merge key (containers by name, ports by containerPort, ...) merge element by element, and the
/// directives kubectl sends ($patch, $retainKeys, $setElementOrder, $deleteFromPrimitiveList) apply.
public struct StrategicMergePatch: Sendable {
    /// OpenAPI definitions by name, where `$ref` members point.
    public let definitions: SchemaDefinitions

    public init(definitions: SchemaDefinitions) { self.definitions = definitions }
    public init(definitions: [String: JSON]) { self.definitions = SchemaDefinitions(definitions) }

    public func apply(_ patch: JSON, to target: JSON, schemaName: String?) throws(StatusError) -> JSON {
        guard case .object = patch else { throw .badRequest("unable to find api field in struct for the patch: the patch is not a JSON object") }
        return try merge(patch, into: target, schema: schemaName.flatMap { definitions[$0] })
    }

    func resolve(_ schema: JSON?) -> JSON? {
        guard let schema else { return nil }
        if let ref = schema["$ref"].string { return definitions[ref] }
        if let all = schema["allOf"].array, let first = all.first { return resolve(first) }
        return schema
    }

    func merge(_ patch: JSON, into target: JSON, schema: JSON?) throws(StatusError) -> JSON {
        guard case .object(let members) = patch else { return patch }
        if members["$patch"]?.string == "replace" {
            var replaced = members
            replaced.removeValue(forKey: "$patch")
            return .object(replaced)
        }
        var result: [String: JSON]
        if case .object(let o) = target { result = o } else { result = [:] }
        let props = resolve(schema)?["properties"]
        let additional = resolve(schema)?["additionalProperties"]
        var orders: [String: [JSON]] = [:]
        for (key, value) in members.sorted(by: { $0.key < $1.key }) {
            if key == "$patch" || key == "$retainKeys" { continue }
            if key.hasPrefix("$setElementOrder/") { orders[String(key.dropFirst(17))] = value.array ?? []; continue }
            if key.hasPrefix("$deleteFromPrimitiveList/") {
                let field = String(key.dropFirst(25))
                let remove = Set(value.array ?? [])
                if let list = result[field]?.array { result[field] = .array(list.filter { !remove.contains($0) }) }
                continue
            }
            if value.isNull { result.removeValue(forKey: key); continue }
            let fieldSchema = resolve(props?[key].isNull == false ? props?[key] : additional)
            switch value {
            case .object:
                if value["$patch"].string == "delete" { result.removeValue(forKey: key); continue }
                result[key] = try merge(value, into: result[key] ?? .null, schema: fieldSchema)
            case .array(let items):
                result[key] = try mergeList(items, into: result[key]?.array ?? [], schema: fieldSchema)
            default:
                result[key] = value
            }
        }
        for (field, order) in orders {
            guard let list = result[field]?.array else { continue }
            let key = resolve(props?[field])?["x-kubernetes-patch-merge-key"].string
            result[field] = .array(reorder(list, by: order, key: key))
        }
        if let retain = members["$retainKeys"]?.array {
            let keep = Set(retain.compactMap(\.string))
            for k in Array(result.keys) where !keep.contains(k) { result.removeValue(forKey: k) }
        }
        return .object(result)
    }

    func mergeList(_ patch: [JSON], into current: [JSON], schema: JSON?) throws(StatusError) -> JSON {
        let strategy = schema?["x-kubernetes-patch-strategy"].string ?? ""
        guard strategy.split(separator: ",").contains("merge") else {
            return .array(patch.filter { $0["$patch"].string == nil })
        }
        let itemSchema = resolve(schema?["items"])
        guard let key = schema?["x-kubernetes-patch-merge-key"].string else {
            // A merged primitive list is a union, in order.
            var out = current
            var seen = Set(current)
            for v in patch where seen.insert(v).inserted { out.append(v) }
            return .array(out)
        }
        if patch.contains(where: { $0["$patch"].string == "replace" }) {
            return .array(patch.filter { $0["$patch"].string != "replace" })
        }
        // Items are found by their merge key through an index (positions of each key's items, in
        // order), not by a scan per patch item; deleted ones are dropped at the end.
        var out: [JSON?] = current
        var positions: [JSON: [Int]] = [:]
        for (i, item) in current.enumerated() { positions[item[key], default: []].append(i) }
        for element in patch {
            let id = element[key]
            if element["$patch"].string == "delete" {
                if var found = positions[id], !found.isEmpty {
                    out[found.removeFirst()] = nil
                    positions[id] = found
                }
                continue
            }
            if let i = positions[id]?.first, let item = out[i] {
                out[i] = nil
                out[i] = try merge(element, into: item, schema: itemSchema)
            } else {
                out.append(try merge(element, into: .null, schema: itemSchema))
                positions[id, default: []].append(out.count - 1)
            }
        }
        return .array(out.compactMap { $0 })
    }

    func reorder(_ list: [JSON], by order: [JSON], key: String?) -> [JSON] {
        func id(_ v: JSON) -> JSON { key.map { v[$0] } ?? v }
        let orderIDs = order.map(id)
        var first: [JSON: JSON] = [:]
        for v in list where first[id(v)] == nil { first[id(v)] = v }
        let ordered = orderIDs.compactMap { first[$0] }
        let named = Set(orderIDs)
        return ordered + list.filter { !named.contains(id($0)) }
    }
}

