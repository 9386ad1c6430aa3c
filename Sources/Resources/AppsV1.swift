import APIMachinery

/// apps/v1: the workload controllers' resources (Deployment, ReplicaSet, StatefulSet, DaemonSet) and
/// ControllerRevision, with upstream's defaults, validation, scale subresource and columns.
public enum AppsV1 {
    public static let resources: [ResourceDefinition] = [
        workload("Deployment", "deployments", ["deploy"], extra: [.ratio("Ready", ["status", "readyReplicas"], ["spec", "replicas"]),
                 .int("Up-to-date", ["status", "updatedReplicas"]), .int("Available", ["status", "availableReplicas"])], defaults: { o in
            if o["spec"]["replicas"].isNull { o["spec"]["replicas"] = 1 }
            // Typed clients send an empty strategy; it is defaulted field by field, as upstream does.
            if o["spec"]["strategy"]["type"].isNull { o["spec"]["strategy"]["type"] = "RollingUpdate" }
            if o["spec"]["strategy"]["type"] == "RollingUpdate" {
                for k in ["maxSurge", "maxUnavailable"] where o["spec"]["strategy"]["rollingUpdate"][k].isNull { o["spec"]["strategy"]["rollingUpdate"][k] = "25%" }
            }
            if o["spec"]["progressDeadlineSeconds"].isNull { o["spec"]["progressDeadlineSeconds"] = 600 }
        }),
        workload("ReplicaSet", "replicasets", ["rs"], extra: [.int("Desired", ["spec", "replicas"]), .int("Current", ["status", "replicas"]), .int("Ready", ["status", "readyReplicas"])],
                 fields: ["status.replicas": { String($0["status"]["replicas"].int ?? 0) }],
                 defaults: { o in if o["spec"]["replicas"].isNull { o["spec"]["replicas"] = 1 } }),
        workload("StatefulSet", "statefulsets", ["sts"], extra: [.ratio("Ready", ["status", "readyReplicas"], ["spec", "replicas"])],
                 validateUpdate: WorkloadValidation.statefulSetUpdate, defaults: { o in
            if o["spec"]["replicas"].isNull { o["spec"]["replicas"] = 1 }
            if o["spec"]["podManagementPolicy"].isNull { o["spec"]["podManagementPolicy"] = "OrderedReady" }
            if o["spec"]["updateStrategy"]["type"].isNull { o["spec"]["updateStrategy"]["type"] = "RollingUpdate" }
            if o["spec"]["updateStrategy"]["type"] == "RollingUpdate", o["spec"]["updateStrategy"]["rollingUpdate"]["partition"].isNull {
                o["spec"]["updateStrategy"]["rollingUpdate"]["partition"] = 0
            }
            for k in ["whenDeleted", "whenScaled"] where o["spec"]["persistentVolumeClaimRetentionPolicy"][k].isNull {
                o["spec"]["persistentVolumeClaimRetentionPolicy"][k] = "Retain"
            }
        }),
        workload("DaemonSet", "daemonsets", ["ds"], scale: false, extra: [.int("Desired", ["status", "desiredNumberScheduled"]), .int("Current", ["status", "currentNumberScheduled"]),
                 .int("Ready", ["status", "numberReady"]), .int("Up-to-date", ["status", "updatedNumberScheduled"]), .int("Available", ["status", "numberAvailable"]),
                 PrinterColumn("Node Selector") { o in .string(PrinterColumn.selector(of: o, ["spec", "template", "spec", "nodeSelector"])) }],
                 // The status fields upstream always writes (not omitempty): a typed client needs them.
                 initialStatus: ["currentNumberScheduled": 0, "numberMisscheduled": 0, "desiredNumberScheduled": 0, "numberReady": 0], defaults: { o in
            if o["spec"]["updateStrategy"]["type"].isNull { o["spec"]["updateStrategy"]["type"] = "RollingUpdate" }
            if o["spec"]["updateStrategy"]["type"] == "RollingUpdate" {
                for (k, v) in [("maxUnavailable", JSON.int(1)), ("maxSurge", 0)] where o["spec"]["updateStrategy"]["rollingUpdate"][k].isNull {
                    o["spec"]["updateStrategy"]["rollingUpdate"][k] = v
                }
            }
        }),
        .v1("apps", "ControllerRevision", "controllerrevisions", columns: [
            PrinterColumn("Controller") { o in .string((o["metadata"]["ownerReferences"].array?.first).map { "\(($0["kind"].string ?? "").lowercased()).apps/\($0["name"].string ?? "")" } ?? "<none>") },
            .int("Revision", ["revision"]), .age]),
    ]

    static func workload(_ kind: String, _ plural: String, _ short: [String], scale: Bool = true, extra: [PrinterColumn],
                         fields: [String: @Sendable (JSON) -> String?] = [:],
                         validateUpdate: @escaping @Sendable (JSON, JSON) -> [FieldError] = { _, _ in [] },
                         initialStatus: JSON = .emptyObject,
                         defaults: @escaping @Sendable (inout JSON) -> Void = { _ in }) -> ResourceDefinition {
        ResourceDefinition(group: "apps", version: "v1", kind: kind, plural: plural, shortNames: short, categories: ["all"], hasStatus: true,
            scale: scale ? ScaleSubresource(labelSelectorPath: ["spec", "selector"]) : nil, tracksGeneration: true,
            strategy: .init(defaults: { o in
                defaults(&o)
                // A ReplicaSet keeps no history of its own: upstream's type has no such field.
                if kind != "ReplicaSet", o["spec"]["revisionHistoryLimit"].isNull { o["spec"]["revisionHistoryLimit"] = 10 }
                var s = o["spec"]["template"]["spec"]; PodDefaults.apply(to: &s); if !s.isNull { o["spec"]["template"]["spec"] = s }
            }, prepareForCreate: { o in o["status"] = initialStatus },
            validate: { o in
                var e: [FieldError] = []
                if o["spec"]["selector"].isNull { e.append(.required("spec.selector")) }
                e += SelectorValidation.labelSelector(o["spec"]["selector"], "spec.selector")
                if e.isEmpty, let sel = try? LabelSelector.fromStructured(o["spec"]["selector"]),
                   !sel.matches(o["spec"]["template"]["metadata"]["labels"].stringMap) {
                    e.append(.invalid("spec.template.metadata.labels", .object(o["spec"]["template"]["metadata"]["labels"].object ?? [:]), "`selector` does not match template `labels`"))
                }
                if let r = o["spec"]["replicas"].int, r < 0 { e.append(.invalid("spec.replicas", .int(r), "must be greater than or equal to 0")) }
                return e + PodValidation.spec(o["spec"]["template"]["spec"], "spec.template.spec", restartPolicies: ["Always"])
            }, validateUpdate: { n, o in
                (n["spec"]["selector"] != o["spec"]["selector"] ? [.invalid("spec.selector", n["spec"]["selector"], "field is immutable")] : [])
                    + validateUpdate(n, o)
            }),
            columns: extra + [.age] + PrinterColumn.workloadWide(["spec", "template", "spec"], ["spec", "selector"]), fieldSelectors: fields,
            schemaName: "io.k8s.api.apps.v1.\(kind)")
    }
}
