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
            return ["kind": .string(def.kind), "apiVersion": .string(def.apiVersion), "metadata": ["name": .string(name)],
                    "conditions": [condition]]
        }
        if let name = path.name {
            guard let item = items.first(where: { $0["metadata"]["name"].string == name }) else {
                throw .notFound(GroupResource(group: def.group, resource: def.plural), name)
            }
            return render(item)
        }
        let meta: JSON = ["resourceVersion": ""]
        if wantsTable { return APIHandler.json(TableConvertor.table(items, def, includeObject: query["includeObject"], metadata: meta)) }
        return APIHandler.json(["kind": .string(def.listKind), "apiVersion": .string(def.apiVersion), "metadata": meta, "items": .array(items)])
    }
}
