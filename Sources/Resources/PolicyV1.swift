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

}
