import APIMachinery
import Resources
import Storage

/// Label and field selectors of one request, checked against objects.
struct ObjectFilter: Sendable {
    let labels: LabelSelector
    let fields: FieldSelector
    let def: ResourceDefinition

    init(_ def: ResourceDefinition, _ options: ListOptions) throws(StatusError) {
        self.def = def
        labels = options.labelSelector
        fields = options.fieldSelector
        for r in fields.requirements where r.field != "metadata.name" && r.field != "metadata.namespace" && def.fieldSelectors[r.field] == nil {
            throw .badRequest("field label not supported: \(r.field)")
        }
    }

    var active: Bool { !labels.isEverything || !fields.isEverything }

    func matches(_ obj: JSON) -> Bool {
        if !labels.isEverything && !labels.matches(obj["metadata"]["labels"].stringMap) { return false }
        if fields.isEverything { return true }
        return fields.matches { field in
            switch field {
            case "metadata.name": return obj["metadata"]["name"].string
            case "metadata.namespace": return obj["metadata"]["namespace"].string
            default: return def.fieldSelectors[field]?(obj)
            }
        }
    }

    func matches(_ stored: StoredObject, _ registry: Registry) throws(StatusError) -> Bool {
        if !active { return true }
        return matches(try registry.decode(stored, as: def))
    }
}
