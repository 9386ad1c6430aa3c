import APIMachinery

/// rbac.authorization.k8s.io/v1: roles and bindings, named as path segments (colons allowed).
public enum RbacV1 {
    public static let resources: [ResourceDefinition] = [
        .v1("rbac.authorization.k8s.io", "Role", "roles", columns: [.field("Created At", ["metadata", "creationTimestamp"])], nameRule: .pathSegment),
        .v1("rbac.authorization.k8s.io", "RoleBinding", "rolebindings", columns: [PrinterColumn("Role") { o in .string("\(o["roleRef"]["kind"].string ?? "")/\(o["roleRef"]["name"].string ?? "")") }, .age] + PrinterColumn.subjectsWide, nameRule: .pathSegment),
        .v1("rbac.authorization.k8s.io", "ClusterRole", "clusterroles", namespaced: false, columns: [.field("Created At", ["metadata", "creationTimestamp"])], nameRule: .pathSegment,
            strategy: .init(validate: SelectorValidation.clusterRole)),
        .v1("rbac.authorization.k8s.io", "ClusterRoleBinding", "clusterrolebindings", namespaced: false, columns: [PrinterColumn("Role") { o in .string("\(o["roleRef"]["kind"].string ?? "")/\(o["roleRef"]["name"].string ?? "")") }, .age] + PrinterColumn.subjectsWide, nameRule: .pathSegment),
    ]
}
