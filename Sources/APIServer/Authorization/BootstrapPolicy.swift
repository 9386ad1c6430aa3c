import APIMachinery
import Registry
import Resources

/// The RBAC policy every cluster starts with: upstream's bootstrap roles and bindings (generated
/// from its published defaults, Generated/BootstrapPolicyDefaults.swift) and the metrics reader
/// role metrics-server brings (localkube serves the metrics API). Reconciled at every start as
/// upstream's API server reconciles them: what is missing is created, a role missing some of
/// its default permissions gets them added, a binding missing default subjects gets them; an
/// object annotated `rbac.authorization.kubernetes.io/autoupdate: "false"` is left as it is.
public enum BootstrapPolicy {
    static let autoupdate = "rbac.authorization.kubernetes.io/autoupdate"

    /// metrics-server's role, so whoever may view may `kubectl top`.
    static let metricsReader: JSON = [
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": ["name": "system:aggregated-metrics-reader",
                     "labels": ["rbac.authorization.k8s.io/aggregate-to-view": "true", "rbac.authorization.k8s.io/aggregate-to-edit": "true",
                                "rbac.authorization.k8s.io/aggregate-to-admin": "true", "kubernetes.io/bootstrapping": "rbac-defaults"],
                     "annotations": JSON([autoupdate: "true"])],
        "rules": [["apiGroups": ["metrics.k8s.io"], "resources": ["pods", "nodes"], "verbs": ["get", "list", "watch"]]],
    ]

    static func parsed(_ texts: [String]) -> [JSON] { texts.compactMap { try? JSON.parse(Array($0.utf8)) } }

    /// Creates or reconciles every default role and binding. Namespaced ones need their
    /// namespaces (kube-system, kube-public) to exist.
    public static func ensure(in registry: Registry) async throws(StatusError) {
        let group = "rbac.authorization.k8s.io"
        func def(_ plural: String) -> ResourceDefinition? { registry.catalog.lookup(group: group, version: "v1", plural: plural) }
        guard let clusterRoleDef = def("clusterroles"), let clusterBindingDef = def("clusterrolebindings"),
              let roleDef = def("roles"), let bindingDef = def("rolebindings") else { return }
        // What exists, one list per kind: a restart reads back some 150 defaults.
        for (def, defaults) in [(clusterRoleDef, parsed(clusterRoles) + [metricsReader]), (roleDef, parsed(roles))] {
            let have = try await existing(def, registry)
            for role in defaults { try await reconcileRole(role, have[key(role)], def, registry) }
        }
        for (def, defaults) in [(clusterBindingDef, parsed(clusterRoleBindings)), (bindingDef, parsed(roleBindings))] {
            let have = try await existing(def, registry)
            for binding in defaults { try await reconcileBinding(binding, have[key(binding)], def, registry) }
        }
    }

    static func key(_ object: JSON) -> String {
        "\(object["metadata"]["namespace"].string ?? "")/\(object["metadata"]["name"].string ?? "")"
    }

    /// Every object of the kind, by namespace/name.
    static func existing(_ def: ResourceDefinition, _ registry: Registry) async throws(StatusError) -> [String: JSON] {
        let items = try await registry.list(def, namespace: nil, options: ListOptions()).items.compactMap { try? JSON.parse($0) }
        return Dictionary(items.map { (key($0), $0) }) { a, _ in a }
    }

    static func create(_ object: JSON, _ def: ResourceDefinition, _ registry: Registry) async throws(StatusError) {
        do { _ = try await registry.create(def, namespace: object["metadata"]["namespace"].string, body: object, options: .init(fieldManager: "localkube")) } catch {
            if error.code != 409 { throw error }
        }
    }

    static func update(_ object: JSON, _ def: ResourceDefinition, _ registry: Registry) async throws(StatusError) {
        let meta = object["metadata"]
        _ = try await registry.update(def, namespace: meta["namespace"].string, name: meta["name"].string ?? "", body: object,
                                      options: .init(fieldManager: "localkube"))
    }

    /// The default labels and annotations added to an object's own (its values win).
    static func withDefaultMetadata(_ current: JSON, from defaults: JSON) -> JSON {
        var out = current
        for field in ["labels", "annotations"] {
            let merged = (defaults["metadata"][field].object ?? [:]).merging(current["metadata"][field].object ?? [:]) { _, own in own }
            if !merged.isEmpty { out["metadata"][field] = .object(merged) }
        }
        return out
    }

    static func reconcileRole(_ role: JSON, _ current: JSON?, _ def: ResourceDefinition, _ registry: Registry) async throws(StatusError) {
        guard let current else { return try await create(role, def, registry) }
        if current["metadata"]["annotations"][autoupdate].string == "false" { return }
        var reconciled = withDefaultMetadata(current, from: role)
        let have = (current["rules"].array ?? []).map(PolicyRule.init)
        let missing = (role["rules"].array ?? []).filter { !covers(have, PolicyRule($0)) }
        if !missing.isEmpty { reconciled["rules"] = .array((current["rules"].array ?? []) + missing) }
        // An aggregated role keeps the selectors it has and gains the default ones.
        if let selectors = role["aggregationRule"]["clusterRoleSelectors"].array {
            let own = current["aggregationRule"]["clusterRoleSelectors"].array ?? []
            reconciled["aggregationRule"]["clusterRoleSelectors"] = .array(own + selectors.filter { !own.contains($0) })
        }
        if reconciled != current { try await update(reconciled, def, registry) }
    }

    static func reconcileBinding(_ binding: JSON, _ current: JSON?, _ def: ResourceDefinition, _ registry: Registry) async throws(StatusError) {
        guard let current else { return try await create(binding, def, registry) }
        if current["metadata"]["annotations"][autoupdate].string == "false" { return }
        if current["roleRef"] != binding["roleRef"] {
            // roleRef cannot change: upstream deletes and makes the binding again.
            let meta = binding["metadata"]
            _ = try await registry.delete(def, namespace: meta["namespace"].string, name: meta["name"].string ?? "", options: .init())
            return try await create(binding, def, registry)
        }
        var reconciled = withDefaultMetadata(current, from: binding)
        let own = current["subjects"].array ?? []
        let missing = (binding["subjects"].array ?? []).filter { !own.contains($0) }
        if !missing.isEmpty { reconciled["subjects"] = .array(own + missing) }
        if reconciled != current { try await update(reconciled, def, registry) }
    }

    /// Whether `rules` allow everything `rule` does (upstream's validation.Covers): each verb on
    /// each resource (and name) of each group, or each verb on each URL, allowed by some rule.
    static func covers(_ rules: [PolicyRule], _ rule: PolicyRule) -> Bool {
        func has(_ values: [String], _ value: String) -> Bool { values.contains("*") || values.contains(value) }
        return rule.verbs.allSatisfy { verb in
            if !rule.nonResourceURLs.isEmpty {
                return rule.nonResourceURLs.allSatisfy { url in
                    rules.contains { r in
                        has(r.verbs, verb) && r.nonResourceURLs.contains { $0 == url || $0 == "*" || ($0.hasSuffix("*") && url.hasPrefix($0.dropLast())) }
                    }
                }
            }
            return rule.apiGroups.allSatisfy { group in
                rule.resources.allSatisfy { resource in
                    let names = rule.resourceNames.isEmpty ? [nil] : rule.resourceNames.map { Optional($0) }
                    return names.allSatisfy { name in
                        rules.contains { r in
                            has(r.verbs, verb) && has(r.apiGroups, group) && has(r.resources, resource)
                                && (r.resourceNames.isEmpty || (name.map { r.resourceNames.contains($0) } ?? false))
                        }
                    }
                }
            }
        }
    }
}
