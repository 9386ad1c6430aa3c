import APIMachinery

/// OpenAPI schemas Cubby writes itself, as JSON values: the kinds and lists of custom resources
/// around their CRDs' schemas (built-in types have upstream's, Generated/). References are written
/// as `ref("io.k8s.api.core.v1.Container")` and resolved by the OpenAPI documents (v2
/// `#/definitions/`, v3 `#/components/schemas/`).
public enum Schema {
    /// The marker a reference carries until a document renders it.
    public static let refKey = "$ref"

    public static func object(_ description: String, required: [String] = [], _ properties: [String: JSON]) -> JSON {
        var s: JSON = ["type": "object", "description": .string(description), "properties": .object(properties)]
        if !required.isEmpty { s["required"] = .array(required.map { .string($0) }) }
        return s
    }

    /// A top-level kind: an object with the GVK extension kubectl uses to find it.
    public static func kind(_ group: String, _ version: String, _ kind: String, _ description: String,
                            required: [String] = [], _ properties: [String: JSON]) -> JSON {
        var s = object(description, required: required, properties)
        s["x-kubernetes-group-version-kind"] = [["group": .string(group), "version": .string(version), "kind": .string(kind)]]
        return s
    }

    /// The List kind of a resource, for list responses.
    public static func list(_ group: String, _ version: String, _ kind: String, items itemRef: String) -> JSON {
        Schema.kind(group, version, kind + "List", "\(kind)List is a list of \(kind) objects.", required: ["items"], [
            "apiVersion": apiVersion, "kind": kindField,
            "metadata": ref("io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta", "Standard list metadata."),
            "items": array(ref(itemRef), "Items is the list of \(kind) objects."),
        ])
    }

    public static func string(_ description: String, enum values: [String] = [], format: String? = nil) -> JSON {
        var s: JSON = ["type": "string", "description": .string(description)]
        if !values.isEmpty { s["enum"] = .array(values.map { .string($0) }) }
        if let format { s["format"] = .string(format) }
        return s
    }

    public static func ref(_ name: String, _ description: String = "") -> JSON {
        var s: JSON = [refKey: .string(name)]
        if !description.isEmpty { s["description"] = .string(description) }
        return s
    }

    /// A list; `mergeKey` makes strategic merge patch merge elements by that field, and
    /// `listType`/`mapKeys` are server-side apply's view of the same.
    public static func array(_ items: JSON, _ description: String, mergeKey: String? = nil, strategy: String? = nil,
                             listType: String? = nil, mapKeys: [String] = []) -> JSON {
        var s: JSON = ["type": "array", "description": .string(description), "items": items]
        if let mergeKey {
            s["x-kubernetes-patch-merge-key"] = .string(mergeKey)
            s["x-kubernetes-patch-strategy"] = .string(strategy ?? "merge")
        } else if let strategy {
            s["x-kubernetes-patch-strategy"] = .string(strategy)
        }
        if let listType { s["x-kubernetes-list-type"] = .string(listType) }
        if !mapKeys.isEmpty { s["x-kubernetes-list-map-keys"] = .array(mapKeys.map { .string($0) }) }
        return s
    }

    public static let apiVersion = string("APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources")
    public static let kindField = string("Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds")
    public static let objectMeta = ref("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata")

    /// apiVersion, kind and metadata, which every kind has, plus the given members.
    public static func withTypeMeta(_ properties: [String: JSON]) -> [String: JSON] {
        properties.merging(["apiVersion": apiVersion, "kind": kindField, "metadata": objectMeta]) { mine, _ in mine }
    }
}
