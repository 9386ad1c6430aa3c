import APIMachinery
import Foundation
import Registry

/// Authorization: members of system:masters may do anything (upstream's privileged-group
/// authorizer, ahead of RBAC, so the admin never waits on a policy read); everyone else is
/// decided by RBAC from the roles and bindings an index keeps in memory. What the index does not
/// allow is decided again from fresh reads, so a binding just made applies at once.
struct RBACAuthorizer: Sendable {
    let registry: Registry
    let index: RBACIndex

    init(registry: Registry) {
        self.registry = registry
        index = RBACIndex(registry: registry)
    }

    static let privilegedGroup = "system:masters"

    struct Decision: Sendable {
        var allowed: Bool
        var reason: String
    }

    func authorize(_ a: RequestAttributes) async -> Decision {
        if a.user.groups.contains(Self.privilegedGroup) { return Decision(allowed: true, reason: "") }
        if let indexed = index.snapshot() {
            let decision = await decide(a, from: IndexedPolicy(objects: indexed))
            if decision.allowed { return decision }
        }
        return await decide(a, from: StoredPolicy(registry: registry))
    }

    func decide(_ a: RequestAttributes, from policy: some PolicySource) async -> Decision {
        var found: Decision?
        await visitRules(for: a.user, namespace: a.namespace, in: policy) { binding, rule in
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
        await visitRules(for: user, namespace: namespace, in: StoredPolicy(registry: registry)) { _, rule in
            rules.append(rule)
            return true
        }
        return rules
    }

    /// Walks cluster role bindings, then the namespace's role bindings, calling `visit` with a
    /// description of the binding (upstream's words) and each rule of its role, until it says stop.
    func visitRules(for user: UserInfo, namespace: String, in policy: some PolicySource, _ visit: (String, PolicyRule) -> Bool) async {
        for binding in await policy.bindings(namespace: nil) where Self.applies(binding, to: user, namespace: "") {
            for rule in await policy.rules(of: binding["roleRef"], namespace: "") {
                if !visit(Self.describe(binding, namespace: "", user: user), rule) { return }
            }
        }
        guard !namespace.isEmpty else { return }
        for binding in await policy.bindings(namespace: namespace) where Self.applies(binding, to: user, namespace: namespace) {
            for rule in await policy.rules(of: binding["roleRef"], namespace: namespace) {
                if !visit(Self.describe(binding, namespace: namespace, user: user), rule) { return }
            }
        }
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

/// Where RBAC's objects are read from.
protocol PolicySource: Sendable {
    /// ClusterRoleBindings (namespace nil), or the namespace's RoleBindings.
    func bindings(namespace: String?) async -> [JSON]
    /// The rules of the role a binding refers to.
    func rules(of roleRef: JSON, namespace: String) async -> [PolicyRule]
}

extension PolicySource {
    /// ClusterRoleBindings for no namespace, RoleBindings for one.
    static func bindingPlural(_ namespace: String?) -> String { namespace == nil ? "clusterrolebindings" : "rolebindings" }

    /// Which role a reference names: a Role in the binding's namespace, or a ClusterRole.
    static func role(_ ref: JSON, namespace: String) -> (plural: String, namespace: String?, name: String)? {
        let (plural, ns): (String, String?) = ref["kind"].string == "Role" ? ("roles", namespace) : ("clusterroles", nil)
        guard let name = ref["name"].string, !(plural == "roles" && namespace.isEmpty) else { return nil }
        return (plural, ns, name)
    }
}

/// The store, read afresh.
struct StoredPolicy: PolicySource {
    let registry: Registry

    func bindings(namespace: String?) async -> [JSON] {
        let plural = Self.bindingPlural(namespace)
        guard let def = registry.catalog.lookup(group: "rbac.authorization.k8s.io", version: "v1", plural: plural),
              let page = try? await registry.list(def, namespace: namespace, options: ListOptions()) else { return [] }
        return page.items.compactMap { try? JSON.parse($0) }
    }

    func rules(of roleRef: JSON, namespace: String) async -> [PolicyRule] {
        guard let (plural, ns, name) = Self.role(roleRef, namespace: namespace),
              let def = registry.catalog.lookup(group: "rbac.authorization.k8s.io", version: "v1", plural: plural),
              let role = try? await registry.get(def, namespace: ns, name: name) else { return [] }
        return (role["rules"].array ?? []).map(PolicyRule.init)
    }
}

/// The index's snapshot.
struct IndexedPolicy: PolicySource {
    let objects: [String: RBACIndex.Objects]

    func bindings(namespace: String?) async -> [JSON] {
        let plural = Self.bindingPlural(namespace)
        // In name order, as a list reads them, so the binding a decision names is the same.
        return (objects[plural]?.all(in: namespace ?? "").map(Array.init) ?? [])
            .sorted { ($0["metadata"]["name"].string ?? "") < ($1["metadata"]["name"].string ?? "") }
    }

    func rules(of roleRef: JSON, namespace: String) async -> [PolicyRule] {
        guard let (plural, ns, name) = Self.role(roleRef, namespace: namespace),
              let role = objects[plural]?.get(ns ?? "", name) else { return [] }
        return (role["rules"].array ?? []).map(PolicyRule.init)
    }
}

extension RBACAuthorizer: AccessReviewer {
    func allows(_ user: UserInfo, verb: String, group: String, resource: String, namespace: String, name: String) async -> Bool {
        await authorize(RequestAttributes(user: user, verb: verb, group: group, resource: resource, namespace: namespace, name: name)).allowed
    }
}
