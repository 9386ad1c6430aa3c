import APIMachinery
import Resources

/// Upstream's NamespaceLifecycle admission: namespaced objects are created only in a namespace
/// that exists and is not being deleted, and the namespaces every cluster relies on (default,
/// kube-system, kube-public) cannot be deleted.
public struct NamespaceLifecycle: AdmissionPlugin {
    public static let immortal: Set<String> = ["default", "kube-system", "kube-public"]

    public init() {}

    /// Upstream runs this first of all, in the mutating phase: nothing else looks at a write to
    /// a namespace that is missing or going away.
    public func admit(_ request: inout AdmissionRequest) async throws(StatusError) {
        if request.operation == .delete, request.isResource("namespaces"), Self.immortal.contains(request.name) {
            throw request.forbidden("this namespace may not be deleted")
        }
        guard request.operation == .create, request.def.namespaced, request.subresource == nil else { return }
        let namespace = request.namespace
        let ns: JSON
        do { ns = try await request.get("namespaces", namespace: nil, name: namespace) } catch {
            throw error.code == 404 ? .notFound(GroupResource(group: "", resource: "namespaces"), namespace) : error
        }
        if ns["metadata"]["deletionTimestamp"].string != nil || ns["status"]["phase"].string == "Terminating" {
            throw request.forbidden("unable to create new content in namespace \(namespace) because it is being terminated")
        }
    }
}
