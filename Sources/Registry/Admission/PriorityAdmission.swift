import APIMachinery
import Resources

/// Upstream's Priority admission: a new pod's priorityClassName (or the global default class)
/// becomes its spec.priority and preemptionPolicy, which the pod may not set itself; a class that
/// does not exist is refused. Only one class may be the global default.
public struct PriorityAdmission: AdmissionPlugin {
    public init() {}

    func classes(_ request: AdmissionRequest) async throws(StatusError) -> [JSON] {
        try await request.list("priorityclasses", group: "scheduling.k8s.io")
    }

    public func admit(_ request: inout AdmissionRequest) async throws(StatusError) {
        guard request.operation == .create, request.isResource("pods") else { return }
        var spec = request.object["spec"]
        let all = try await classes(request)
        var priority: Int64 = 0, policy = "PreemptLowerPriority"
        if let name = spec["priorityClassName"].string, !name.isEmpty {
            guard let pc = all.first(where: { $0["metadata"]["name"].string == name }) else {
                throw request.forbidden("no PriorityClass with name \(name) was found")
            }
            priority = pc["value"].int ?? 0
            policy = pc["preemptionPolicy"].string ?? policy
        } else if let pc = all.filter({ $0["globalDefault"].bool == true }).min(by: { ($0["value"].int ?? 0) < ($1["value"].int ?? 0) }) {
            spec["priorityClassName"] = pc["metadata"]["name"]
            priority = pc["value"].int ?? 0
            policy = pc["preemptionPolicy"].string ?? policy
        }
        if let given = spec["priority"].int, given != priority {
            throw request.forbidden("the integer value of priority (\(given)) must not be provided in pod spec; priority admission controller computed \(priority) from the given PriorityClass name")
        }
        if let given = spec["preemptionPolicy"].string, given != policy {
            throw request.forbidden("the string value of PreemptionPolicy (\(given)) must not be provided in pod spec; priority admission controller computed \(policy) from the given PriorityClass name")
        }
        spec["priority"] = .int(priority)
        spec["preemptionPolicy"] = .string(policy)
        request.object["spec"] = spec
    }

    public func validate(_ request: AdmissionRequest) async throws(StatusError) {
        guard request.operation != .delete, request.isResource("priorityclasses", group: "scheduling.k8s.io"),
              request.object["globalDefault"].bool == true else { return }
        let name = request.object["metadata"]["name"].string ?? ""
        if let other = try await classes(request).first(where: { $0["globalDefault"].bool == true && $0["metadata"]["name"].string != name }) {
            throw request.forbidden("PriorityClass \(other["metadata"]["name"].string ?? "") is already marked as default. Only one default can exist")
        }
    }
}
