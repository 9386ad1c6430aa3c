import APIMachinery
import Resources

/// Upstream's RuntimeClass admission: a pod naming a RuntimeClass gets the class's pod overhead
/// and node selector and tolerations; a class that does not exist is refused.
public struct RuntimeClassAdmission: AdmissionPlugin {
    public init() {}

    public func admit(_ request: inout AdmissionRequest) async throws(StatusError) {
        guard request.operation == .create, request.isResource("pods"),
              let name = request.object["spec"]["runtimeClassName"].string, !name.isEmpty else { return }
        let rc: JSON
        do { rc = try await request.get("runtimeclasses", group: "node.k8s.io", name: name) } catch {
            throw error.code == 404 ? request.forbidden("pod rejected: RuntimeClass \"\(name)\" not found") : error
        }
        var spec = request.object["spec"]
        if let overhead = rc["overhead"]["podFixed"].object {
            if let given = spec["overhead"].object, given != overhead {
                throw request.forbidden("pod rejected: Pod's Overhead doesn't match RuntimeClass's defined Overhead")
            }
            spec["overhead"] = .object(overhead)
        }
        for (k, v) in rc["scheduling"]["nodeSelector"].object ?? [:] {
            if let mine = spec["nodeSelector"][k].string, mine != v.string {
                throw request.forbidden("pod rejected: conflict: nodeSelector \(k)=\(mine) conflicts with RuntimeClass \(k)=\(v.string ?? "")")
            }
            spec["nodeSelector"][k] = v
        }
        let tolerations = rc["scheduling"]["tolerations"].array ?? []
        if !tolerations.isEmpty {
            let existing = spec["tolerations"].array ?? []
            spec["tolerations"] = .array(existing + tolerations.filter { !existing.contains($0) })
        }
        request.object["spec"] = spec
    }
}
