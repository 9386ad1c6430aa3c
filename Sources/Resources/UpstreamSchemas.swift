import APIMachinery

/// Upstream's OpenAPI definitions of the Kubernetes 1.37 API, by definition name
/// (`io.k8s.api.apps.v1.Deployment`): every GA type with upstream's descriptions, required fields,
/// formats, merge keys and list types. Generated/ holds them as text, one file per API group
/// (scripts/generate-schemas.py writes it from PyPI's kubernetes-validate); they are parsed once,
/// on first use, and read by validation of unknown fields, strategic merge patch, server-side
/// apply and the OpenAPI documents `kubectl explain` reads.
public enum UpstreamSchemas {
    public static let definitions: [String: JSON] = {
        var all: [String: JSON] = [:]
        for text in groups {
            let bytes = Array(UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
            guard case .object(let group)? = try? JSON.parse(bytes) else { preconditionFailure("a generated schema file does not parse") }
            all.merge(group) { a, _ in a }
        }
        return all
    }()
}
