import APIMachinery
import Registry

/// The cluster roles and bindings every cluster starts with, as upstream's bootstrap policy
/// declares them: cluster-admin (bound to system:masters), the user-facing admin/edit/view
/// (aggregated from the system:aggregate-to-* roles and from any role carrying their labels),
/// and the discovery, basic-user and public-info roles every authenticated user holds.
/// Created when missing; a role a user changed is left as it is.
public enum BootstrapPolicy {
    static let readVerbs = ["get", "list", "watch"]
    static let writeVerbs = ["create", "delete", "deletecollection", "patch", "update"]

    static func rule(_ verbs: [String], _ group: String, _ resources: [String]) -> PolicyRule {
        PolicyRule(verbs: verbs, apiGroups: [group], resources: resources)
    }

    static func aggregateLabel(_ to: String) -> String { "rbac.authorization.k8s.io/aggregate-to-\(to)" }

    struct Role {
        var name: String
        var rules: [PolicyRule]
        var labels: [String: String] = [:]
        var aggregatesFrom: String?
    }

    static let roles: [Role] = [
        Role(name: "cluster-admin", rules: [PolicyRule(verbs: ["*"], apiGroups: ["*"], resources: ["*"]),
                                           PolicyRule(verbs: ["*"], nonResourceURLs: ["*"])]),
        Role(name: "system:discovery", rules: [PolicyRule(verbs: ["get"], nonResourceURLs: [
            "/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*", "/readyz", "/version", "/version/"])]),
        Role(name: "system:public-info-viewer", rules: [PolicyRule(verbs: ["get"], nonResourceURLs: [
            "/healthz", "/livez", "/readyz", "/version", "/version/"])]),
        Role(name: "system:basic-user", rules: [
            rule(["create"], "authorization.k8s.io", ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]),
            rule(["create"], "authentication.k8s.io", ["selfsubjectreviews"]),
        ]),
        Role(name: "admin", rules: [], aggregatesFrom: "admin"),
        Role(name: "edit", rules: [], labels: [aggregateLabel("admin"): "true"], aggregatesFrom: "edit"),
        Role(name: "view", rules: [], labels: [aggregateLabel("edit"): "true"], aggregatesFrom: "view"),
        Role(name: "system:aggregate-to-admin", rules: [
            rule(["create"], "authorization.k8s.io", ["localsubjectaccessreviews"]),
            rule(writeVerbs + readVerbs, "rbac.authorization.k8s.io", ["rolebindings", "roles"]),
        ], labels: [aggregateLabel("admin"): "true"]),
        Role(name: "system:aggregate-to-edit", rules: [
            rule(readVerbs, "", ["pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "secrets", "services/proxy"]),
            rule(["impersonate"], "", ["serviceaccounts"]),
            rule(writeVerbs, "", ["pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy"]),
            rule(["create"], "", ["pods/eviction"]),
            rule(writeVerbs, "", ["configmaps", "events", "persistentvolumeclaims", "replicationcontrollers",
                                  "replicationcontrollers/scale", "secrets", "serviceaccounts", "services", "services/proxy"]),
            rule(["create"], "", ["serviceaccounts/token"]),
            rule(writeVerbs, "apps", ["daemonsets", "deployments", "deployments/rollback", "deployments/scale", "replicasets",
                                      "replicasets/scale", "statefulsets", "statefulsets/scale"]),
            rule(writeVerbs, "autoscaling", ["horizontalpodautoscalers"]),
            rule(writeVerbs, "batch", ["cronjobs", "jobs"]),
            rule(writeVerbs, "policy", ["poddisruptionbudgets"]),
            rule(writeVerbs, "networking.k8s.io", ["ingresses", "networkpolicies"]),
            rule(writeVerbs + readVerbs, "coordination.k8s.io", ["leases"]),
        ], labels: [aggregateLabel("edit"): "true"]),
        Role(name: "system:aggregate-to-view", rules: [
            rule(readVerbs, "", ["configmaps", "endpoints", "persistentvolumeclaims", "persistentvolumeclaims/status", "pods",
                                 "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts", "services", "services/status"]),
            rule(readVerbs, "", ["bindings", "events", "limitranges", "namespaces/status", "pods/log", "pods/status",
                                 "replicationcontrollers/status", "resourcequotas", "resourcequotas/status"]),
            rule(readVerbs, "", ["namespaces"]),
            rule(readVerbs, "discovery.k8s.io", ["endpointslices"]),
            rule(readVerbs, "apps", ["controllerrevisions", "daemonsets", "daemonsets/status", "deployments", "deployments/scale",
                                     "deployments/status", "replicasets", "replicasets/scale", "replicasets/status", "statefulsets",
                                     "statefulsets/scale", "statefulsets/status"]),
            rule(readVerbs, "autoscaling", ["horizontalpodautoscalers", "horizontalpodautoscalers/status"]),
            rule(readVerbs, "batch", ["cronjobs", "cronjobs/status", "jobs", "jobs/status"]),
            rule(readVerbs, "policy", ["poddisruptionbudgets", "poddisruptionbudgets/status"]),
            rule(readVerbs, "networking.k8s.io", ["ingresses", "ingresses/status", "networkpolicies"]),
        ], labels: [aggregateLabel("view"): "true"]),
        // metrics-server's role, so whoever may view may `kubectl top` (localkube serves the API).
        Role(name: "system:aggregated-metrics-reader", rules: [rule(readVerbs, "metrics.k8s.io", ["pods", "nodes"])],
             labels: [aggregateLabel("view"): "true", aggregateLabel("edit"): "true", aggregateLabel("admin"): "true"]),
    ]

    /// Cluster role bindings, named after their role: (role, group subjects).
    static let bindings: [(role: String, groups: [String])] = [
        ("cluster-admin", ["system:masters"]),
        ("system:discovery", ["system:authenticated"]),
        ("system:basic-user", ["system:authenticated"]),
        ("system:public-info-viewer", ["system:authenticated", "system:unauthenticated"]),
    ]

    static let metadata: (labels: [String: String], annotations: [String: String]) = (
        ["kubernetes.io/bootstrapping": "rbac-defaults"], ["rbac.authorization.kubernetes.io/autoupdate": "true"])

    static func clusterRole(_ role: Role) -> JSON {
        var o: JSON = [
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": ["name": .string(role.name), "labels": JSON(metadata.labels.merging(role.labels) { a, _ in a }),
                         "annotations": JSON(metadata.annotations)],
            "rules": .array(role.rules.map(\.json)),
        ]
        if let from = role.aggregatesFrom {
            o["aggregationRule"] = ["clusterRoleSelectors": [["matchLabels": JSON([aggregateLabel(from): "true"])]]]
        }
        return o
    }

    static func clusterRoleBinding(role: String, groups: [String]) -> JSON {
        ["apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
         "metadata": ["name": .string(role), "labels": JSON(metadata.labels), "annotations": JSON(metadata.annotations)],
         "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": .string(role)],
         "subjects": .array(groups.map { ["apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": .string($0)] })]
    }

    /// Creates whichever bootstrap roles and bindings are missing.
    public static func ensure(in registry: Registry) async throws(StatusError) {
        let group = "rbac.authorization.k8s.io"
        guard let roleDef = registry.catalog.lookup(group: group, version: "v1", plural: "clusterroles"),
              let bindingDef = registry.catalog.lookup(group: group, version: "v1", plural: "clusterrolebindings") else { return }
        let objects = roles.map { (roleDef, clusterRole($0)) } + bindings.map { (bindingDef, clusterRoleBinding(role: $0.role, groups: $0.groups)) }
        for (def, object) in objects {
            do { _ = try await registry.create(def, namespace: nil, body: object, options: .init(fieldManager: "localkube")) } catch {
                if error.code != 409 { throw error }
            }
        }
    }
}
