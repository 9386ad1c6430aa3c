import APIMachinery
import Client
import Foundation

/// Watches node heartbeats, as upstream's node lifecycle controller: a node whose lease has not
/// been renewed within the grace period becomes Unknown (NotReady), gets the unreachable (or,
/// when it reports not ready, not-ready) NoSchedule and NoExecute taints, and its pods are marked
/// not ready; pods that do not tolerate a NoExecute taint, or whose tolerationSeconds have run
/// out, are evicted so their controllers replace them elsewhere. Taints go when the node is
/// Ready again. A cordoned node (spec.unschedulable) carries the unschedulable NoSchedule taint.
public struct NodeLifecycleController: Controller {
    public let name = "node-lifecycle"
    public let queue = WorkQueue()
    let client: Client
    let nodes: Informer
    let leases: Informer
    let pods: Informer
    let gracePeriod: Duration
    let events: EventRecorder

    static let unreachable = "node.kubernetes.io/unreachable"
    static let notReady = "node.kubernetes.io/not-ready"
    static let unschedulable = "node.kubernetes.io/unschedulable"

    public init(client: Client, informers: InformerFactory, gracePeriod: Duration = .seconds(40)) {
        self.client = client
        nodes = informers.nodes
        leases = informers.informer("coordination.k8s.io", "v1", "leases")
        pods = informers.pods
        self.gracePeriod = gracePeriod
        events = EventRecorder(client: client, component: "node-controller")
    }

    /// How often every node is looked at: upstream's 5 s, or less for short grace periods.
    var monitorPeriod: Duration { min(.seconds(5), gracePeriod / 4) }

    public func register() async {
        let queue = queue, nodes = nodes, period = monitorPeriod
        await nodes.addHandler { event in
            if case .deleted = event { return }
            queue.add(Informer.key(event.object))
        }
        await nodes.waitForSync()
        await leases.waitForSync()
        await pods.waitForSync()
        Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: period)
                for node in await nodes.list() { queue.add(Informer.key(node)) }
            }
        }
    }

    public func reconcile(_ name: String) async throws {
        guard let node = await nodes.get(name) else { return }
        let now = Date()
        let ready = node["status"]["conditions"].array?.first { $0["type"] == "Ready" }
        let heartbeat = await leases.get("kube-node-lease/\(name)")?["spec"]["renewTime"].string.flatMap(APITime.parse)
            ?? ready?["lastHeartbeatTime"].string.flatMap(APITime.parse)
            ?? node["metadata"]["creationTimestamp"].string.flatMap(APITime.parse) ?? now
        let grace = Double(gracePeriod.components.seconds) + Double(gracePeriod.components.attoseconds) / 1e18
        var readyStatus = ready?["status"].string ?? "Unknown"

        if now.timeIntervalSince(heartbeat) > grace && readyStatus != "Unknown" {
            let stamp = APITime.format(now)
            try await client.nodes.modify(nil, name, status: true) { n in
                n["status"]["conditions"] = .array((n["status"]["conditions"].array ?? []).map { c in
                    var c = c
                    c["status"] = "Unknown"
                    c["reason"] = "NodeStatusUnknown"
                    c["message"] = "Kubelet stopped posting node status."
                    c["lastTransitionTime"] = .string(stamp)
                    return c
                })
            }
            readyStatus = "Unknown"
            events.normal(node, "NodeNotReady", "Node \(name) status is now: NodeNotReady")
            try await markPodsNotReady(on: name)
        }

        // The taints follow the Ready condition.
        let wanted: String? = readyStatus == "True" ? nil : (readyStatus == "Unknown" ? Self.unreachable : Self.notReady)
        let taints = node["spec"]["taints"].array ?? []
        let kept = taints.filter { ![Self.unreachable, Self.notReady, Self.unschedulable].contains($0["key"].string ?? "") }
        var desired = kept
        // A cordoned node is tainted too, as upstream's TaintNodesByCondition does.
        if node["spec"]["unschedulable"].bool == true { desired.append(["key": .string(Self.unschedulable), "effect": "NoSchedule"]) }
        if let wanted {
            for effect in ["NoSchedule", "NoExecute"] {
                let existing = taints.first { $0["key"].string == wanted && $0["effect"].string == effect }
                var taint: JSON = ["key": .string(wanted), "effect": .string(effect)]
                if effect == "NoExecute" { taint["timeAdded"] = existing?["timeAdded"] ?? .string(APITime.format(now)) }
                desired.append(taint)
            }
        }
        if desired != taints {
            let value: JSON = desired.isEmpty ? .null : .array(desired)
            try await client.nodes.modify(nil, name) { $0["spec"]["taints"] = value }
        }
        try await evict(on: name, taints: desired.filter { $0["effect"] == "NoExecute" }, now: now)
    }

    func markPodsNotReady(on node: String) async throws {
        for pod in await pods.list(where: { $0["spec"]["nodeName"].string == node && ControllerRef.isReady($0) }) {
            let (ns, name) = Informer.split(Informer.key(pod))
            do throws(StatusError) {
                try await client.pods.modify(ns, name, status: true) { p in
                    PodConditions.set(&p, type: "Ready", status: "False")
                    p["status"]["containerStatuses"] = .array((p["status"]["containerStatuses"].array ?? []).map { c in
                        var c = c
                        c["ready"] = false
                        return c
                    })
                }
            } catch {
                if error.code != 404 { throw error }
            }
        }
    }

    /// NoExecute: pods that do not tolerate a taint go now; those tolerating it for a while go
    /// when that time has passed since the taint was added.
    func evict(on node: String, taints: [JSON], now: Date) async throws {
        guard !taints.isEmpty else { return }
        for pod in await pods.list(where: { $0["spec"]["nodeName"].string == node && $0["metadata"]["deletionTimestamp"].isNull }) {
            var evictAt: Date?
            for taint in taints {
                let added = taint["timeAdded"].string.flatMap(APITime.parse) ?? now
                let matching = (pod["spec"]["tolerations"].array ?? []).filter { Taints.tolerates($0, taint) }
                let at: Date? = if matching.isEmpty {
                    now
                } else if matching.contains(where: { $0["tolerationSeconds"].isNull }) {
                    nil
                } else {
                    added.addingTimeInterval(Double(matching.compactMap { $0["tolerationSeconds"].int }.min() ?? 0))
                }
                if let at { evictAt = min(evictAt ?? at, at) }
            }
            guard let at = evictAt else { continue }
            if at > now {
                queue.add(node, after: .milliseconds(Int64(at.timeIntervalSince(now) * 1000) + 1))
                continue
            }
            let (ns, name) = Informer.split(Informer.key(pod))
            events.normal(pod, "TaintManagerEviction", "Marking for deletion Pod \(ns ?? "")/\(name)")
            do throws(StatusError) { try await client.pods.delete(ns, name) } catch { if error.code != 404 { throw error } }
        }
    }
}
