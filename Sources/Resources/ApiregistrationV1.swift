import APIMachinery

/// apiregistration.k8s.io/v1: APIServices, as kube-aggregator keeps them. Every group version
/// this server serves has a Local one (always Available); metrics.k8s.io is among them, served
/// by localkube itself where a cluster would run metrics-server.
public enum ApiregistrationV1 {
    static let schemaName = "io.k8s.kube-aggregator.pkg.apis.apiregistration.v1.APIService"

    public static let resources: [ResourceDefinition] = [
        ResourceDefinition(group: "apiregistration.k8s.io", version: "v1", kind: "APIService", plural: "apiservices", namespaced: false,
            hasStatus: true, nameRule: .pathSegment, strategy: .init(validate: validate),
            columns: [PrinterColumn("Service") { o in
                          let s = o["spec"]["service"]
                          return .string(s.isNull ? "Local" : "\(s["namespace"].string ?? "")/\(s["name"].string ?? "")")
                      },
                      PrinterColumn("Available") { o in
                          guard let c = o["status"]["conditions"].array?.first(where: { $0["type"].string == "Available" }) else { return "Unknown" }
                          let status = c["status"].string ?? "Unknown"
                          return .string(status == "True" ? status : "\(status) (\(c["reason"].string ?? ""))")
                      }, .age],
            schemaName: schemaName),
    ]

    /// The APIService of a group version served locally, Available as kube-aggregator marks them.
    public static func local(group: String, version: String, now: String) -> JSON {
        ["apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
         "metadata": ["name": .string(group.isEmpty ? "\(version)." : "\(version).\(group)"), "labels": ["kube-aggregator.kubernetes.io/automanaged": "onstart"]],
         "spec": ["group": .string(group), "version": .string(version), "groupPriorityMinimum": 18000, "versionPriority": 15],
         "status": ["conditions": [["type": "Available", "status": "True", "lastTransitionTime": .string(now), "reason": "Passed",
                                    "message": "Local APIServices are always available"]]]]
    }

    static func validate(_ o: JSON) -> [FieldError] {
        var errors: [FieldError] = []
        let spec = o["spec"]
        guard let version = spec["version"].string, !version.isEmpty else { return [.required("spec.version", "")] }
        let group = spec["group"].string ?? ""
        let expected = group.isEmpty ? "\(version)." : "\(version).\(group)"
        if o["metadata"]["name"].string != expected {
            errors.append(.invalid("metadata.name", o["metadata"]["name"], "must be `spec.version+\".\"+spec.group`: \"\(expected)\""))
        }
        if let n = spec["groupPriorityMinimum"].int, n <= 0 || n > 20000 {
            errors.append(.invalid("spec.groupPriorityMinimum", .int(n), "must be positive and less than 20000"))
        } else if spec["groupPriorityMinimum"].isNull {
            errors.append(.invalid("spec.groupPriorityMinimum", .int(0), "must be positive and less than 20000"))
        }
        if let n = spec["versionPriority"].int, n <= 0 || n > 1000 {
            errors.append(.invalid("spec.versionPriority", .int(n), "must be positive and less than 1000"))
        } else if spec["versionPriority"].isNull {
            errors.append(.invalid("spec.versionPriority", .int(0), "must be positive and less than 1000"))
        }
        return errors
    }

}
