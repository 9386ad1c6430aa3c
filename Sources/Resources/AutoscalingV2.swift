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
            columns: columns, schemaName: "io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler"),
        autoscalingV1,
    ]

    static let columns: [PrinterColumn] = [
        PrinterColumn("Reference") { o in .string("\(o["spec"]["scaleTargetRef"]["kind"].string ?? "")/\(o["spec"]["scaleTargetRef"]["name"].string ?? "")") },
        PrinterColumn("Targets") { o in .string(targets(o)) },
        PrinterColumn("MinPods", type: "integer") { .int($0["spec"]["minReplicas"].int ?? 1) },
        PrinterColumn("MaxPods", type: "integer") { .int($0["spec"]["maxReplicas"].int ?? 0) },
        PrinterColumn("Replicas", type: "integer") { .int($0["status"]["currentReplicas"].int ?? 0) }, .age,
    ]

    /// autoscaling/v1: the same objects (stored as v2) with one CPU utilisation target, as
    /// upstream serves them; metrics other than CPU utilisation are not shown in this version.
    static let autoscalingV1: ResourceDefinition = {
        var def = ResourceDefinition(
            group: "autoscaling", version: "v1", kind: "HorizontalPodAutoscaler", plural: "horizontalpodautoscalers", shortNames: ["hpa"],
            categories: ["all"], namespaced: true, hasStatus: true,
            strategy: ResourceStrategy(defaults: { if $0["spec"]["minReplicas"].isNull { $0["spec"]["minReplicas"] = 1 } },
                                       prepareForCreate: { $0["status"] = ["currentReplicas": 0, "desiredReplicas": 0] },
                                       validate: { validate(toV2($0)) }),
            schemaName: "io.k8s.api.autoscaling.v1.HorizontalPodAutoscaler",
            storedAs: StoredVersion(group: "autoscaling", plural: "horizontalpodautoscalers", fromStorage: toV1, toStorage: toV2))
        def.columns = columns.map { column in
            var c = column
            c.cell = { column.cell(toV2($0)) }
            return c
        }
        return def
    }()

    static func cpuUtilization(_ metrics: JSON, _ field: String, _ value: String) -> JSON {
        (metrics.array ?? []).first { $0["type"] == "Resource" && $0["resource"]["name"] == "cpu" }?["resource"][field][value] ?? .null
    }

    static func toV1(_ o: JSON) -> JSON {
        var v1 = o
        v1["apiVersion"] = "autoscaling/v1"
        v1["spec"] = ["scaleTargetRef": o["spec"]["scaleTargetRef"], "minReplicas": o["spec"]["minReplicas"], "maxReplicas": o["spec"]["maxReplicas"]]
        let target = cpuUtilization(o["spec"]["metrics"], "target", "averageUtilization")
        if !target.isNull { v1["spec"]["targetCPUUtilizationPercentage"] = target }
        let status = o["status"]
        v1["status"] = ["currentReplicas": .int(status["currentReplicas"].int ?? 0), "desiredReplicas": .int(status["desiredReplicas"].int ?? 0)]
        for field in ["observedGeneration", "lastScaleTime"] where !status[field].isNull { v1["status"][field] = status[field] }
        let current = cpuUtilization(status["currentMetrics"], "current", "averageUtilization")
        if !current.isNull { v1["status"]["currentCPUUtilizationPercentage"] = current }
        return v1
    }

    static func toV2(_ o: JSON) -> JSON {
        var v2 = o
        v2["apiVersion"] = "autoscaling/v2"
        var spec: JSON = ["scaleTargetRef": o["spec"]["scaleTargetRef"], "minReplicas": o["spec"]["minReplicas"], "maxReplicas": o["spec"]["maxReplicas"]]
        if let percent = o["spec"]["targetCPUUtilizationPercentage"].int {
            spec["metrics"] = [["type": "Resource", "resource": ["name": "cpu", "target": ["type": "Utilization", "averageUtilization": .int(percent)]]]]
        }
        v2["spec"] = spec
        var status: JSON = ["desiredReplicas": .int(o["status"]["desiredReplicas"].int ?? 0)]
        if let current = o["status"]["currentReplicas"].int, current != 0 { status["currentReplicas"] = .int(current) }
        for field in ["observedGeneration", "lastScaleTime"] where !o["status"][field].isNull { status[field] = o["status"][field] }
        if let percent = o["status"]["currentCPUUtilizationPercentage"].int {
            status["currentMetrics"] = [["type": "Resource", "resource": ["name": "cpu", "current": ["averageUtilization": .int(percent)]]]]
        }
        v2["status"] = status
        return v2
    }

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
