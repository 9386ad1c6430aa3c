import APIMachinery
import Resources

/// Server-side printing: objects as a meta.k8s.io/v1 Table with the type's columns, which is what
/// `kubectl get` asks for and prints.
enum TableConvertor {
    static let nameColumn: JSON = [
        "name": "Name", "type": "string", "format": "name", "priority": 0,
        "description": "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names",
    ]

    /// A type with a column of the `name` format prints its names itself, where it says
    /// (StorageClass first, marking the default one; Event last, with -o wide); every other type
    /// gets the plain Name column first.
    static func ownsNameColumn(_ def: ResourceDefinition) -> Bool { def.columns.contains { $0.format == "name" } }

    static func columnDefinitions(_ def: ResourceDefinition) -> JSON {
        .array((ownsNameColumn(def) ? [] : [nameColumn]) + def.columns.map { c in
            ["name": .string(c.name), "type": .string(c.type), "format": .string(c.format),
             "description": .string(c.description), "priority": .int(Int64(c.priority))]
        })
    }

    /// What each row carries besides its cells, as `includeObject` asks: None, Metadata (default) or Object.
    static func rowObject(_ obj: JSON, includeObject: String?) -> JSON {
        switch includeObject {
        case "None": return .null
        case "Object": return obj
        default:
            return ["kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj["metadata"]]
        }
    }

    static func row(_ obj: JSON, _ def: ResourceDefinition, includeObject: String?) -> JSON {
        let cells: [JSON] = (ownsNameColumn(def) ? [] : [obj["metadata"]["name"]]) + def.columns.map { $0.cell(obj) }
        var row: JSON = ["cells": .array(cells)]
        let o = rowObject(obj, includeObject: includeObject)
        if !o.isNull { row["object"] = o }
        return row
    }

    static func table(_ objects: [JSON], _ def: ResourceDefinition, includeObject: String?, metadata: JSON, headers: Bool = true) -> JSON {
        var t: JSON = ["kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": metadata,
                       "rows": .array(objects.map { row($0, def, includeObject: includeObject) })]
        t["columnDefinitions"] = headers ? columnDefinitions(def) : .array([])
        return t
    }
}
