import APIMachinery

/// Upstream's OpenAPI definitions of the Kubernetes 1.37 API, by definition name
/// (`io.k8s.api.apps.v1.Deployment`): every GA type with upstream's descriptions, required fields,
/// formats, merge keys and list types. Generated/ holds them as text, one file per API group
/// (scripts/generate-schemas.py writes it from PyPI's kubernetes-validate); each is parsed when
/// first looked up, and read by validation of unknown fields, strategic merge patch, server-side
/// apply and the OpenAPI documents `kubectl explain` reads.
public enum UpstreamSchemas {
    public static let definitions = SchemaDefinitions(texts: groups.flatMap { zip($0.names, $0.texts) })

    /// One API group's definitions: names and texts in the same order.
    struct Group {
        let names: [String]
        let texts: [StaticString]
    }
}
