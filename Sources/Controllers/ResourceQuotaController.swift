import APIMachinery
import Client
import Foundation
import Resources

/// Upstream's resource quota controller: each ResourceQuota's status says what it limits
/// (`hard`, from spec.hard) and what the namespace uses now (`used`), counted from the objects
/// themselves by the same rules the ResourceQuota admission charges with. It recounts a
/// namespace's quotas when a quota or a pod changes there, and every quota every 10 seconds,
/// which gives back what deleted objects freed (`kubectl describe quota` shows used/hard).
public struct ResourceQuotaController: Controller {
    public let name = "resourcequota"
    public let queue = WorkQueue()
    let client: Client
    let quotas: Informer
    let pods: Informer
    let resync: Duration

    public init(client: Client, informers: InformerFactory, resync: Duration = .seconds(10)) {
        self.client = client
        quotas = informers.informer("", "v1", "resourcequotas")
        pods = informers.pods
        self.resync = resync
    }

    public func register() async {
        let queue = queue, quotas = quotas
        await quotas.addHandler { event in
            if case .deleted = event { return }
            queue.add(event.object["metadata"]["namespace"].string ?? "")
        }
        // Pods come and go (and end) far more often than other objects: their quotas follow at once.
        await pods.addHandler { event in
            if case .updated(let old, let new) = event, old["status"]["phase"] == new["status"]["phase"] { return }
            guard let ns = event.object["metadata"]["namespace"].string else { return }
            Task { if await !quotas.list(namespace: ns).isEmpty { queue.add(ns) } }
        }
        let resync = resync
        Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: resync)
                for ns in Set(await quotas.list().compactMap { $0["metadata"]["namespace"].string }) { queue.add(ns) }
            }
        }
    }

    public func reconcile(_ namespace: String) async throws {
        let inNamespace = await quotas.list(namespace: namespace)
        guard !inNamespace.isEmpty else { return }
        // Every object of each kind a quota of the namespace counts, read once.
        var objects: [String: (ResourceDefinition, [JSON])] = [:]
        let served = client.definitions
        for quota in inNamespace {
            for resource in (quota["spec"]["hard"].object ?? [:]).keys {
                guard let def = Self.counted(resource, served), objects[def.plural + "." + def.group] == nil else { continue }
                let items = try await client.resource(def.group, def.version, def.plural).list(namespace).items
                objects[def.plural + "." + def.group] = (def, items)
            }
        }
        for quota in inNamespace {
            let hard = quota["spec"]["hard"].object ?? [:]
            var used: [String: Double] = [:]
            for resource in hard.keys { used[resource] = 0 }
            for (def, items) in objects.values {
                for item in items where QuotaUsage.inScope(quota, def, item) {
                    for (resource, value) in QuotaUsage.of(def, item) where hard[resource] != nil { used[resource, default: 0] += value }
                }
            }
            var formattedUsed: [String: JSON] = [:]
            for (resource, value) in used { formattedUsed[resource] = .string(QuotaUsage.format(value, resource: resource)) }
            let formatted: JSON = ["hard": .object(hard), "used": .object(formattedUsed)]
            guard quota["status"] != formatted else { continue }
            do throws(StatusError) {
                try await client.resource("", "v1", "resourcequotas").modify(namespace, quota["metadata"]["name"].string ?? "", status: true) { q in
                    q["status"] = formatted
                }
            } catch {
                if error.code != 404 { throw error }
            }
        }
    }

    /// The kind of object a quota resource name counts: pods for requests/limits/cpu/memory,
    /// services for their node ports and load balancers, claims for storage, and RESOURCE.GROUP
    /// for `count/...`.
    static func counted(_ resource: String, _ served: [ResourceDefinition]) -> ResourceDefinition? {
        func core(_ plural: String) -> ResourceDefinition? { served.first { $0.group.isEmpty && $0.version == "v1" && $0.plural == plural } }
        if resource.hasPrefix("count/") {
            let name = resource.dropFirst("count/".count)
            let parts = name.split(separator: ".", maxSplits: 1).map(String.init)
            let group = parts.count > 1 ? parts[1] : ""
            return served.first { $0.plural == parts[0] && $0.group == group }
        }
        if resource == "requests.storage" || resource.contains(".storageclass.storage.k8s.io/") { return core("persistentvolumeclaims") }
        if resource == "pods" || resource == "cpu" || resource == "memory" || resource.hasPrefix("requests.") || resource.hasPrefix("limits.") {
            return core("pods")
        }
        if resource.hasPrefix("services") { return core("services") }
        return core(resource)
    }
}
