import APIMachinery
import Resources

/// Upstream's DefaultStorageClass and DefaultIngressClass admissions: a new claim (ingress) that
/// names no class gets the one marked default by its annotation; when several are, the newest.
public struct DefaultClass: AdmissionPlugin {
    let resource: (group: String, plural: String)
    let classResource: (group: String, plural: String)
    let field: [String]
    let annotation: String

    public static let storage = DefaultClass(resource: ("", "persistentvolumeclaims"), classResource: ("storage.k8s.io", "storageclasses"),
                                             field: ["spec", "storageClassName"], annotation: "storageclass.kubernetes.io/is-default-class")
    public static let ingress = DefaultClass(resource: ("networking.k8s.io", "ingresses"), classResource: ("networking.k8s.io", "ingressclasses"),
                                             field: ["spec", "ingressClassName"], annotation: "ingressclass.kubernetes.io/is-default-class")

    public func admit(_ request: inout AdmissionRequest) async throws(StatusError) {
        guard request.operation == .create, request.isResource(resource.plural, group: resource.group), request.object[path: field].isNull,
              // A claim bound to a volume by its annotation keeps its class as the volume says.
              request.object["metadata"]["annotations"]["volume.beta.kubernetes.io/storage-class"].isNull else { return }
        let defaults = try await request.list(classResource.plural, group: classResource.group)
            .filter { $0["metadata"]["annotations"][annotation].string == "true" }
            .sorted { ($0["metadata"]["creationTimestamp"].string ?? "", $0["metadata"]["name"].string ?? "") > ($1["metadata"]["creationTimestamp"].string ?? "", $1["metadata"]["name"].string ?? "") }
        if let chosen = defaults.first?["metadata"]["name"] { request.object[path: field] = chosen }
    }
}
