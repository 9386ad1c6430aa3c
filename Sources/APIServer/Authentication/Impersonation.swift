import APIMachinery
import HTTPTypes

/// Impersonation headers (kubectl --as, --as-group, --as-uid): the request proceeds as the named
/// user once the real one may `impersonate` each part, as upstream's impersonation filter checks.
struct Impersonation: Sendable {
    static let user = HTTPField.Name("Impersonate-User")!
    static let group = HTTPField.Name("Impersonate-Group")!
    static let uid = HTTPField.Name("Impersonate-Uid")!
    static let extraPrefix = "impersonate-extra-"

    let authorizer: RBACAuthorizer

    /// The user the request acts as: the authenticated one when there is nothing to impersonate.
    func apply(_ headers: HTTPFields, to requester: UserInfo) async throws(StatusError) -> UserInfo {
        let groups = headers[values: Self.group]
        let uid = headers[Self.uid]
        var extra: [String: [String]] = [:]
        for field in headers where field.name.canonicalName.hasPrefix(Self.extraPrefix) {
            let key = String(field.name.canonicalName.dropFirst(Self.extraPrefix.count))
            extra[key.removingPercentEncoding ?? key, default: []].append(field.value)
        }
        guard let name = headers[Self.user] else {
            if !groups.isEmpty || uid != nil || !extra.isEmpty {
                throw .internalError("requested impersonation of groups, uid or extra without impersonating a user")
            }
            return requester
        }
        var checks: [RequestAttributes] = []
        var user = UserInfo(name: name, uid: uid ?? "", groups: groups, extra: extra)
        if let sa = user.serviceAccount {
            checks.append(.init(user: requester, verb: "impersonate", group: "", resource: "serviceaccounts", namespace: sa.namespace, name: sa.name))
            if groups.isEmpty { user.groups = UserInfo.serviceAccount(namespace: sa.namespace, name: sa.name).groups }
        } else {
            checks.append(.init(user: requester, verb: "impersonate", group: "", resource: "users", name: name))
        }
        checks += groups.map { .init(user: requester, verb: "impersonate", group: "", resource: "groups", name: $0) }
        if let uid { checks.append(.init(user: requester, verb: "impersonate", group: "authentication.k8s.io", resource: "uids", name: uid)) }
        for (key, values) in extra {
            checks += values.map { .init(user: requester, verb: "impersonate", group: "authentication.k8s.io", resource: "userextras", subresource: key, name: $0) }
        }
        for check in checks where await !authorizer.authorize(check).allowed {
            throw check.forbidden(reason: "")
        }
        if name != "system:anonymous", !user.groups.contains("system:authenticated") { user.groups.append("system:authenticated") }
        return user
    }
}
