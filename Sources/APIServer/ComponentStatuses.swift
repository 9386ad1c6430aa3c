import APIMachinery
import HTTPTypes
import Hummingbird
import Registry
import Resources

/// v1 ComponentStatus, answered from the components' health when asked (nothing is stored), as
/// upstream's apiserver answers it from its probes: one item a component, Healthy True with "ok"
/// or False with the error.
extension ResourceRequest {
    var isComponentStatus: Bool { def.group.isEmpty && def.kind == "ComponentStatus" }

    func serveComponentStatuses(_ method: HTTPRequest.Method) async throws(StatusError) -> Response {
        guard method == .get, path.subresource == nil, !query.bool("watch") else { throw .methodNotAllowed() }
        let items: [JSON] = await registry.components.statuses().map { name, error in
            var condition: JSON = ["type": "Healthy", "status": error == nil ? "True" : "False"]
            if let error { condition["error"] = .string(error) } else { condition["message"] = "ok" }
            return ["metadata": ["name": .string(name)], "conditions": [condition]]
        }
        return try answer(computed: items)
    }
}
