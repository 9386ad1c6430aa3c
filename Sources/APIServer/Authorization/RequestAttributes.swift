import APIMachinery
import HTTPTypes

/// What a request asks to do, in the terms authorizers decide on (upstream's authorizer.Attributes):
/// a verb on a resource (group, resource, subresource, namespace, name) or on a non-resource path.
struct RequestAttributes: Sendable {
    var user: UserInfo
    var verb: String
    var isResourceRequest: Bool
    var path: String = ""
    var apiGroup = ""
    var resource = ""
    var subresource = ""
    var namespace = ""
    var name = ""

    /// A resource request as its path reads: the verb from the method, a name and `watch`.
    init(user: UserInfo, method: HTTPRequest.Method, resourcePath rp: ResourcePath, watch: Bool) {
        self.user = user
        isResourceRequest = true
        apiGroup = rp.group
        resource = rp.resource
        subresource = rp.subresource ?? ""
        name = rp.name ?? ""
        // A namespace is its own namespace, as upstream's request info has it.
        namespace = rp.namespace ?? (rp.group.isEmpty && rp.resource == "namespaces" ? name : "")
        switch method {
        case .get, .head: verb = watch ? "watch" : (name.isEmpty ? "list" : "get")
        case .post: verb = "create"
        case .put: verb = "update"
        case .patch: verb = "patch"
        case .delete: verb = name.isEmpty ? "deletecollection" : "delete"
        default: verb = method.rawValue.lowercased()
        }
        // A stream into a pod is made, whatever method opened it: a WebSocket's GET must not pass
        // for `get` (upstream authorizes these upgrades as `create` since 1.35).
        if rp.group.isEmpty, rp.resource == "pods", ["exec", "attach", "portforward"].contains(subresource) { verb = "create" }
    }

    init(user: UserInfo, method: HTTPRequest.Method, path: String) {
        self.user = user
        isResourceRequest = false
        self.path = path
        verb = method.rawValue.lowercased()
    }

    init(user: UserInfo, verb: String, group: String, resource: String, subresource: String = "", namespace: String = "", name: String = "") {
        self.user = user
        self.verb = verb
        isResourceRequest = true
        apiGroup = group
        self.resource = resource
        self.subresource = subresource
        self.namespace = namespace
        self.name = name
    }

    /// Upstream's refusal: `pods "web" is forbidden: User "jane" cannot delete resource "pods" in
    /// API group "" in the namespace "default"`, or `forbidden: User "jane" cannot get path "/apis"`.
    func forbidden(reason: String) -> StatusError {
        let suffix = reason.isEmpty ? "" : ": \(reason)"
        guard isResourceRequest else {
            return StatusError(code: 403, reason: "Forbidden",
                               message: "forbidden: User \"\(user.name)\" cannot \(verb) path \"\(path)\"\(suffix)")
        }
        let full = subresource.isEmpty ? resource : "\(resource)/\(subresource)"
        let scope = namespace.isEmpty ? "at the cluster scope" : "in the namespace \"\(namespace)\""
        return .forbidden(GroupResource(group: apiGroup, resource: resource), name,
                          "User \"\(user.name)\" cannot \(verb) resource \"\(full)\" in API group \"\(apiGroup)\" \(scope)\(suffix)")
    }
}
