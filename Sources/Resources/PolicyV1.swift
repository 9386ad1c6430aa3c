import APIMachinery

/// policy/v1: PodDisruptionBudgets, which the disruption controller keeps the status of and the
/// pods/eviction subresource (`kubectl drain`) honours.
public enum PolicyV1 {
    static let pdbSchema = "io.k8s.api.policy.v1.PodDisruptionBudget"

    /// "N/A" when unset, as kubectl prints it.
    static func intOrString(_ name: String, _ field: String) -> PrinterColumn {
        PrinterColumn(name) { o in
            let v = o["spec"][field]
            if let n = v.int { return .string(String(n)) }
            return .string(v.string ?? "N/A")
        }
    }

    public static let resources: [ResourceDefinition] = [
        ResourceDefinition(group: "policy", version: "v1", kind: "PodDisruptionBudget", plural: "poddisruptionbudgets", shortNames: ["pdb"],
            hasStatus: true, tracksGeneration: true,
            strategy: .init(prepareForCreate: { o in o["status"] = ["disruptionsAllowed": 0, "currentHealthy": 0, "desiredHealthy": 0, "expectedPods": 0] },
                            validate: validate),
            columns: [intOrString("Min Available", "minAvailable"), intOrString("Max Unavailable", "maxUnavailable"),
                      PrinterColumn("Allowed Disruptions", type: "integer") { .int($0["status"]["disruptionsAllowed"].int ?? 0) }, .age],
            schemaName: pdbSchema),
    ]

    static func validate(_ o: JSON) -> [FieldError] {
        let spec = o["spec"]
        var errors: [FieldError] = []
        if !spec["minAvailable"].isNull && !spec["maxUnavailable"].isNull {
            errors.append(.invalid("spec", spec, "minAvailable and maxUnavailable cannot be both set"))
        }
        for field in ["minAvailable", "maxUnavailable"] where !spec[field].isNull {
            errors += IntOrString.errors(spec[field], "spec.\(field)")
        }
        if !spec["selector"].isNull {
            do throws(StatusError) { _ = try LabelSelector.fromStructured(spec["selector"]) } catch {
                errors.append(.invalid("spec.selector", spec["selector"], error.message))
            }
        }
        if let policy = spec["unhealthyPodEvictionPolicy"].string, !["IfHealthyBudget", "AlwaysAllow"].contains(policy) {
            errors.append(.notSupported("spec.unhealthyPodEvictionPolicy", .string(policy), ["AlwaysAllow", "IfHealthyBudget"]))
        }
        return errors
    }

    public static let schemas: [String: JSON] = [
        pdbSchema: Schema.kind("policy", "v1", "PodDisruptionBudget",
            "PodDisruptionBudget is an object to define the max disruption that can be caused to a collection of pods", Schema.withTypeMeta([
                "spec": Schema.object("PodDisruptionBudgetSpec is a description of a PodDisruptionBudget.", [
                    "minAvailable": Schema.intOrString("An eviction is allowed if at least \"minAvailable\" pods selected by \"selector\" will still be available after the eviction, i.e. even in the absence of the evicted pod."),
                    "maxUnavailable": Schema.intOrString("An eviction is allowed if at most \"maxUnavailable\" pods selected by \"selector\" are unavailable after the eviction, i.e. even in absence of the evicted pod."),
                    "selector": Schema.preserveUnknown("Label query over pods whose evictions are managed by the disruption budget. A null selector will match no pods, while an empty ({}) selector will select all pods within the namespace."),
                    "unhealthyPodEvictionPolicy": Schema.string("UnhealthyPodEvictionPolicy defines the criteria for when unhealthy pods should be considered for eviction.", enum: ["AlwaysAllow", "IfHealthyBudget"]),
                ]),
                "status": Schema.preserveUnknown("Most recently observed status of the PodDisruptionBudget."),
            ])),
        pdbSchema + "List": Schema.list("policy", "v1", "PodDisruptionBudget", items: pdbSchema),
    ]
}
