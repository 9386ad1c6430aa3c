import APIMachinery
import Resources

/// Upstream's ResourceQuota admission, the last of the chain: a new object is refused when it
/// would take a namespace past any of its quotas' hard limits, in upstream's words
/// (`exceeded quota: q, requested: pods=1, used: pods=1, limited: pods=1`); otherwise its usage
/// is charged to each quota's status.used at once (the read-check-write is one optimistic
/// update of the quota, so two creates cannot both take the last slot). The resource quota
/// controller recounts status.used from the objects, which gives back what deletions free.
public struct ResourceQuotaAdmission: AdmissionPlugin {
    public init() {}

    /// Resources a quota limits that a pod must then state for each container.
    static let mustSpecify = ["requests.cpu", "requests.memory", "limits.cpu", "limits.memory", "cpu", "memory"]

    public func validate(_ request: AdmissionRequest) async throws(StatusError) {
        guard request.operation == .create, request.subresource == nil, request.def.namespaced,
              !(request.isResource("resourcequotas")),
              let quotaDef = request.registry.catalog.lookup(group: "", version: "v1", plural: "resourcequotas") else { return }
        let usage = QuotaUsage.of(request.def, request.object)
        guard !usage.isEmpty else { return }
        let quotas = try await request.list("resourcequotas", namespace: request.namespace)
            .filter { QuotaUsage.inScope($0, request.def, request.object) }
        for quota in quotas {
            let hard = quota["spec"]["hard"].object ?? [:]
            try checkSpecified(request, quota, Set(hard.keys))
            let charged = usage.filter { hard[$0.key] != nil }
            guard !charged.isEmpty else { continue }
            let name = quota["metadata"]["name"].string ?? ""
            var options = WriteOptions(fieldManager: "kube-apiserver")
            options.dryRun = request.dryRun
            _ = try await request.registry.patch(quotaDef, namespace: request.namespace, name: name, subresource: .status, options: options) { current throws(StatusError) in
                var q = current
                let hard = q["spec"]["hard"].object ?? [:]
                var exceeded: [String] = []
                for (resource, delta) in charged.sorted(by: { $0.key < $1.key }) {
                    guard let limit = hard[resource] else { continue }
                    let used = Quantity.value(q["status"]["used"][resource])
                    if used + delta > Quantity.value(limit) { exceeded.append(resource) }
                }
                if !exceeded.isEmpty {
                    func list(_ value: (String) -> String) -> String { exceeded.map { "\($0)=\(value($0))" }.joined(separator: ",") }
                    throw request.forbidden("exceeded quota: \(name), requested: \(list { QuotaUsage.format(charged[$0] ?? 0, resource: $0) }), "
                        + "used: \(list { QuotaUsage.format(Quantity.value(q["status"]["used"][$0]), resource: $0) }), "
                        + "limited: \(list { hard[$0].map(QuotaUsage.quantityText) ?? "" })")
                }
                q["status"]["hard"] = .object(hard)
                for (resource, delta) in charged {
                    let used = Quantity.value(q["status"]["used"][resource]) + delta
                    q["status"]["used"][resource] = .string(QuotaUsage.format(used, resource: resource))
                }
                return q
            }
        }
    }

    /// A quota on cpu or memory needs every container of a pod to say its requests or limits.
    func checkSpecified(_ request: AdmissionRequest, _ quota: JSON, _ hard: Set<String>) throws(StatusError) {
        guard request.isResource("pods") else { return }
        var missing: [String] = []
        for resource in Self.mustSpecify.filter(hard.contains).sorted() {
            let kind = resource.hasPrefix("limits.") ? "limits" : "requests"
            let name = resource.split(separator: ".").last.map(String.init) ?? resource
            let lacking = ((request.object["spec"]["initContainers"].array ?? []) + (request.object["spec"]["containers"].array ?? []))
                .filter { $0["resources"][kind][name].isNull }.compactMap { $0["name"].string }
            if !lacking.isEmpty { missing.append("\(resource) for: \(lacking.joined(separator: ","))") }
        }
        if !missing.isEmpty {
            throw request.forbidden("failed quota: \(quota["metadata"]["name"].string ?? ""): must specify \(missing.joined(separator: "; "))")
        }
    }
}

extension QuotaUsage {
    /// A hard limit as the quota's author wrote it.
    static func quantityText(_ value: JSON) -> String {
        value.string ?? value.int.map(String.init) ?? value.number.map { String($0) } ?? ""
    }
}
