import APIMachinery

/// autoscaling/v2 HorizontalPodAutoscaler: upstream's defaults (one replica at least, CPU at 80%
/// of requests when no metric is given, the default scaling rules filled into a behavior given in
/// part), validation and columns. The horizontal-pod-autoscaler controller acts on them.
public enum AutoscalingV2 {
    public static let resources: [ResourceDefinition] = [
        ResourceDefinition(
            group: "autoscaling", version: "v2", kind: "HorizontalPodAutoscaler", plural: "horizontalpodautoscalers", shortNames: ["hpa"],
            categories: ["all"], namespaced: true, hasStatus: true,
            strategy: ResourceStrategy(defaults: defaults, prepareForCreate: { $0["status"] = ["desiredReplicas": 0] }, validate: validate),
            columns: [PrinterColumn("Reference") { o in .string("\(o["spec"]["scaleTargetRef"]["kind"].string ?? "")/\(o["spec"]["scaleTargetRef"]["name"].string ?? "")") },
                      PrinterColumn("Targets") { o in .string(targets(o)) },
                      PrinterColumn("MinPods", type: "integer") { .int($0["spec"]["minReplicas"].int ?? 1) },
                      PrinterColumn("MaxPods", type: "integer") { .int($0["spec"]["maxReplicas"].int ?? 0) },
                      PrinterColumn("Replicas", type: "integer") { .int($0["status"]["currentReplicas"].int ?? 0) }, .age],
            schemaName: "io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler"),
    ]

    /// upstream's scaling rules when a behavior leaves them out: up by 100% or 4 pods (the
    /// larger) each 15 s at once; down by 100% each 15 s after 300 s of lower recommendations.
    public static let defaultScaleUp: JSON = ["stabilizationWindowSeconds": 0, "selectPolicy": "Max",
                                       "policies": [["type": "Pods", "value": 4, "periodSeconds": 15],
                                                    ["type": "Percent", "value": 100, "periodSeconds": 15]]]
    public static let defaultScaleDown: JSON = ["stabilizationWindowSeconds": 300, "selectPolicy": "Max",
                                         "policies": [["type": "Percent", "value": 100, "periodSeconds": 15]]]

    static func defaults(_ hpa: inout JSON) {
        if hpa["spec"]["minReplicas"].isNull { hpa["spec"]["minReplicas"] = .int(1) }
        if (hpa["spec"]["metrics"].array ?? []).isEmpty {
            hpa["spec"]["metrics"] = [["type": "Resource", "resource": ["name": "cpu", "target": ["type": "Utilization", "averageUtilization": 80]]]]
        }
        guard case .object = hpa["spec"]["behavior"] else { return }
        for (direction, rules) in [("scaleUp", defaultScaleUp), ("scaleDown", defaultScaleDown)] {
            var given = hpa["spec"]["behavior"][direction]
            if given.isNull { given = rules } else {
                for field in ["stabilizationWindowSeconds", "selectPolicy", "policies"] where given[field].isNull { given[field] = rules[field] }
            }
            hpa["spec"]["behavior"][direction] = given
        }
    }

    static func validate(_ hpa: JSON) -> [FieldError] {
        var errors: [FieldError] = []
        let spec = hpa["spec"]
        for field in ["kind", "name"] where (spec["scaleTargetRef"][field].string ?? "").isEmpty {
            errors.append(.required("spec.scaleTargetRef.\(field)"))
        }
        let minReplicas = spec["minReplicas"].int ?? 1, maxReplicas = spec["maxReplicas"].int ?? 0
        if minReplicas < 1 { errors.append(.invalid("spec.minReplicas", .int(minReplicas), "must be greater than or equal to 1")) }
        if maxReplicas < 1 { errors.append(.invalid("spec.maxReplicas", .int(maxReplicas), "must be greater than 0")) }
        if maxReplicas >= 1, maxReplicas < minReplicas {
            errors.append(.invalid("spec.maxReplicas", .int(maxReplicas), "must be greater than or equal to `minReplicas`"))
        }
        for (i, metric) in (spec["metrics"].array ?? []).enumerated() where metric["type"].string == "Resource" {
            let target = metric["resource"]["target"], path = "spec.metrics[\(i)].resource.target"
            if let percent = target["averageUtilization"].int, percent < 1 {
                errors.append(.invalid("\(path).averageUtilization", .int(percent), "must be greater than 0"))
            }
            let type = target["type"].string ?? ""
            if !["Utilization", "AverageValue", "Value"].contains(type) {
                errors.append(.notSupported("\(path).type", .string(type), ["AverageValue", "Utilization", "Value"]))
            }
        }
        return errors
    }

    /// kubectl's TARGETS: each resource metric as current/target ("cpu: 40%/80%").
    static func targets(_ o: JSON) -> String {
        let current = o["status"]["currentMetrics"].array ?? []
        let targets = (o["spec"]["metrics"].array ?? []).compactMap { metric -> String? in
            guard metric["type"] == "Resource", let name = metric["resource"]["name"].string else { return nil }
            let target = metric["resource"]["target"]
            let now = current.first { $0["resource"]["name"].string == name }?["resource"]["current"]
            if let percent = target["averageUtilization"].int {
                return "\(name): \(now?["averageUtilization"].int.map { "\($0)%" } ?? "<unknown>")/\(percent)%"
            }
            let value = target["averageValue"].string ?? target["value"].string ?? ""
            return "\(name): \(now?["averageValue"].string ?? "<unknown>")/\(value)"
        }
        return targets.isEmpty ? "<none>" : targets.joined(separator: ", ")
    }
}
