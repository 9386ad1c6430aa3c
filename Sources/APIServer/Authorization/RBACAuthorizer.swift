import APIMachinery
import Foundation
import Registry

/// Authorization: members of system:masters may do anything (upstream's privileged-group
/// authorizer, ahead of RBAC, so the admin never waits on a policy read); everyone else is
/// decided by RBAC from the stored roles and bindings, read afresh on each request so a change
/// applies at once.
struct RBACAuthorizer: Sendable {
    let registry: Registry

    static let privilegedGroup = "system:masters"

    struct Decision: Sendable {
        var allowed: Bool
        var reason: String
    }

    func authorize(_ a: RequestAttributes) async -> Decision {
        if a.user.groups.contains(Self.privilegedGroup) { return Decision(allowed: true, reason: "") }
        var found: Decision?
        await visitRules(for: a.user, namespace: a.namespace) { binding, rule in
            guard rule.allows(a) else { return true }
            found = Decision(allowed: true, reason: "RBAC: allowed by \(binding)")
            return false
        }
        return found ?? Decision(allowed: false, reason: "")
    }

    /// Every rule that applies to the user in the namespace (cluster-wide ones too), for
    /// SelfSubjectRulesReview.
    func rules(for user: UserInfo, namespace: String) async -> [PolicyRule] {
        var rules: [PolicyRule] = []
        await visitRules(for: user, namespace: namespace) { _, rule in
            rules.append(rule)
            return true
        }
        return rules
    }

    /// Walks cluster role bindings, then the namespace's role bindings, calling `visit` with a
    /// description of the binding (upstream's words) and each rule of its role, until it says stop.
    func visitRules(for user: UserInfo, namespace: String, _ visit: (String, PolicyRule) -> Bool) async {
        for binding in await objects("clusterrolebindings", namespace: nil) where Self.applies(binding, to: user, namespace: "") {
            for rule in await roleRules(binding["roleRef"], namespace: "") {
                if !visit(Self.describe(binding, namespace: "", user: user), rule) { return }
            }
        }
        guard !namespace.isEmpty else { return }
        for binding in await objects("rolebindings", namespace: namespace) where Self.applies(binding, to: user, namespace: namespace) {
            for rule in await roleRules(binding["roleRef"], namespace: namespace) {
                if !visit(Self.describe(binding, namespace: namespace, user: user), rule) { return }
            }
        }
    }

    func objects(_ plural: String, namespace: String?) async -> [JSON] {
        guard let def = registry.catalog.lookup(group: "rbac.authorization.k8s.io", version: "v1", plural: plural),
              let page = try? await registry.list(def, namespace: namespace, options: ListOptions()) else { return [] }
        return page.items.compactMap { try? JSON.parse($0) }
    }

    func roleRules(_ ref: JSON, namespace: String) async -> [PolicyRule] {
        let (plural, ns): (String, String?) = ref["kind"].string == "Role" ? ("roles", namespace) : ("clusterroles", nil)
        guard let name = ref["name"].string, !(plural == "roles" && namespace.isEmpty),
              let def = registry.catalog.lookup(group: "rbac.authorization.k8s.io", version: "v1", plural: plural),
              let role = try? await registry.get(def, namespace: ns, name: name) else { return [] }
        return (role["rules"].array ?? []).map(PolicyRule.init)
    }

    static func applies(_ binding: JSON, to user: UserInfo, namespace: String) -> Bool {
        (binding["subjects"].array ?? []).contains { subject in
            guard let name = subject["name"].string else { return false }
            switch subject["kind"].string {
            case "User": return name == user.name
            case "Group": return user.groups.contains(name)
            case "ServiceAccount":
                // A subject without a namespace means the binding's own.
                let ns = subject["namespace"].string.flatMap { $0.isEmpty ? nil : $0 } ?? namespace
                return !ns.isEmpty && user.name == "system:serviceaccount:\(ns):\(name)"
            default: return false
            }
        }
    }

    /// `RoleBinding "read/default" of ClusterRole "view" to ServiceAccount "viewer/default"`.
    static func describe(_ binding: JSON, namespace: String, user: UserInfo) -> String {
        let name = binding["metadata"]["name"].string ?? ""
        let kind = namespace.isEmpty ? "ClusterRoleBinding \"\(name)\"" : "RoleBinding \"\(name)/\(namespace)\""
        let role = "\(binding["roleRef"]["kind"].string ?? "") \"\(binding["roleRef"]["name"].string ?? "")\""
        let subject = (binding["subjects"].array ?? []).first { applies(["subjects": [$0]], to: user, namespace: namespace) } ?? .null
        var who = subject["name"].string ?? ""
        if subject["kind"].string == "ServiceAccount" { who += "/\(subject["namespace"].string ?? namespace)" }
        return "\(kind) of \(role) to \(subject["kind"].string ?? "") \"\(who)\""
    }
}
