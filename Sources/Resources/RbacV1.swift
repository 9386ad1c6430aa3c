import APIMachinery

/// rbac.authorization.k8s.io/v1: roles and bindings, named as path segments (colons allowed).
public enum RbacV1 {
    public static let resources: [ResourceDefinition] = [
        .v1("rbac.authorization.k8s.io", "Role", "roles", columns: [.field("Created At", ["metadata", "creationTimestamp"])], nameRule: .pathSegment),
        .v1("rbac.authorization.k8s.io", "RoleBinding", "rolebindings", columns: [PrinterColumn("Role") { o in .string("\(o["roleRef"]["kind"].string ?? "")/\(o["roleRef"]["name"].string ?? "")") }, .age] + PrinterColumn.subjectsWide, nameRule: .pathSegment,
            strategy: .init(validate: { binding($0, kinds: ["ClusterRole", "Role"]) }, validateUpdate: roleRefUnchanged)),
        .v1("rbac.authorization.k8s.io", "ClusterRole", "clusterroles", namespaced: false, columns: [.field("Created At", ["metadata", "creationTimestamp"])], nameRule: .pathSegment,
            strategy: .init(validate: SelectorValidation.clusterRole)),
        .v1("rbac.authorization.k8s.io", "ClusterRoleBinding", "clusterrolebindings", namespaced: false, columns: [PrinterColumn("Role") { o in .string("\(o["roleRef"]["kind"].string ?? "")/\(o["roleRef"]["name"].string ?? "")") }, .age] + PrinterColumn.subjectsWide, nameRule: .pathSegment,
            strategy: .init(validate: { binding($0, kinds: ["ClusterRole"]) }, validateUpdate: roleRefUnchanged)),
    ]

    /// upstream's ValidateRoleBinding: a roleRef of this group, of a kind the binding may name, with
    /// a name; subjects of known kinds, each with a name.
    static func binding(_ o: JSON, kinds: [String]) -> [FieldError] {
        var errors: [FieldError] = []
        let ref = o["roleRef"]
        let group = ref["apiGroup"].string ?? ""
        if group != "rbac.authorization.k8s.io" { errors.append(.notSupported("roleRef.apiGroup", .string(group), ["rbac.authorization.k8s.io"])) }
        let kind = ref["kind"].string ?? ""
        if !kinds.contains(kind) { errors.append(.notSupported("roleRef.kind", .string(kind), kinds)) }
        let name = ref["name"].string ?? ""
        if name.isEmpty { errors.append(.required("roleRef.name")) }
        else { errors += NameValidation.pathSegmentName(name).map { .invalid("roleRef.name", .string(name), $0) } }
        for (i, subject) in (o["subjects"].array ?? []).enumerated() {
            let path = "subjects[\(i)]"
            if (subject["name"].string ?? "").isEmpty { errors.append(.required("\(path).name")) }
            let subjectKind = subject["kind"].string ?? ""
            if !["Group", "ServiceAccount", "User"].contains(subjectKind) {
                errors.append(.notSupported("\(path).kind", .string(subjectKind), ["Group", "ServiceAccount", "User"]))
            }
        }
        return errors
    }

    /// A binding's roleRef never changes (a new one is a new binding).
    static func roleRefUnchanged(_ new: JSON, _ old: JSON) -> [FieldError] {
        new["roleRef"] == old["roleRef"] ? [] : [.invalid("roleRef", new["roleRef"], "cannot change roleRef")]
    }
}
