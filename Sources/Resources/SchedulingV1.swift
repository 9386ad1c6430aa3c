import APIMachinery

/// scheduling.k8s.io/v1: PriorityClasses, which the Priority admission turns into a pod's
/// spec.priority and the scheduler preempts by. The two system classes every cluster has are
/// made at start (`systemClasses`).
public enum SchedulingV1 {
    static let schemaName = "io.k8s.api.scheduling.v1.PriorityClass"
    /// The highest value a user's class may have; above it are the system classes'.
    public static let highestUserDefinable: Int64 = 1_000_000_000

    public static let systemClasses: [JSON] = [
        ["apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": ["name": "system-cluster-critical"],
         "value": 2_000_000_000, "description": "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary."],
        ["apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": ["name": "system-node-critical"],
         "value": 2_000_001_000, "description": "Used for system critical pods that must not be moved from their current node."],
    ]

    public static let resources: [ResourceDefinition] = [
        ResourceDefinition(group: "scheduling.k8s.io", version: "v1", kind: "PriorityClass", plural: "priorityclasses", shortNames: ["pc"],
            namespaced: false,
            strategy: .init(defaults: { o in if o["preemptionPolicy"].isNull { o["preemptionPolicy"] = "PreemptLowerPriority" } },
                            validate: validate, validateUpdate: validateUpdate),
            columns: [PrinterColumn("Value", type: "integer") { .int($0["value"].int ?? 0) },
                      PrinterColumn("Global-Default", type: "boolean") { .bool($0["globalDefault"].bool ?? false) }, .age,
                      .field("PreemptionPolicy", ["preemptionPolicy"], none: "")],
            schemaName: schemaName),
    ]

    static func validate(_ o: JSON) -> [FieldError] {
        var errors: [FieldError] = []
        let name = o["metadata"]["name"].string ?? ""
        let isSystem = systemClasses.contains { $0["metadata"]["name"].string == name }
        if name.hasPrefix("system-") && !isSystem {
            errors.append(.invalid("metadata.name", .string(name), "priority class names with 'system-' prefix are reserved"))
        }
        if !isSystem, let value = o["value"].int, value > highestUserDefinable {
            errors.append(.forbidden("value", "maximum allowed value of a user defined priority is \(highestUserDefinable)"))
        }
        if let policy = o["preemptionPolicy"].string, !["PreemptLowerPriority", "Never"].contains(policy) {
            errors.append(.notSupported("preemptionPolicy", .string(policy), ["Never", "PreemptLowerPriority"]))
        }
        return errors
    }

    static func validateUpdate(_ new: JSON, _ old: JSON) -> [FieldError] {
        var errors: [FieldError] = []
        if new["value"] != old["value"] { errors.append(.forbidden("value", "may not be changed in an update.")) }
        if new["preemptionPolicy"] != old["preemptionPolicy"] { errors.append(.invalid("preemptionPolicy", new["preemptionPolicy"], "field is immutable")) }
        return errors
    }

}
