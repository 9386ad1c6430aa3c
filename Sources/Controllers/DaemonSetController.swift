import APIMachinery
import Client
import Foundation

/// One pod of each DaemonSet on every node it fits (node selector, required affinity, taints),
/// as upstream's daemonset controller: pods are pinned by node affinity and bound by the
/// scheduler, tolerate what daemons tolerate (not-ready, unreachable, pressure, unschedulable),
/// are removed from nodes that no longer fit, and a RollingUpdate replaces at most
/// maxUnavailable of them at a time. Each template is kept as a ControllerRevision for
/// `kubectl rollout history` and `rollout undo`.
public struct DaemonSetController: Controller {
    public let name = "daemonset"
    public let queue = WorkQueue()
    let client: Client
    let sets: Informer
    let nodes: Informer
    let pods: Informer
    let history: ControllerHistory
    let expectations = Expectations()
    let events: EventRecorder

    static let hashLabel = "controller-revision-hash"
    static let tolerations: [JSON] = [
        ["key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"],
        ["key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"],
        ["key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"],
        ["key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"],
        ["key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"],
        ["key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"],
    ]

    public init(client: Client, informers: InformerFactory) {
        self.client = client
        sets = informers.informer("apps", "v1", "daemonsets")
        nodes = informers.nodes
        pods = informers.pods
        history = ControllerHistory(client: client, revisions: informers.informer("apps", "v1", "controllerrevisions"))
        events = EventRecorder(client: client, component: "daemonset-controller")
    }

    public func register() async {
        let queue = queue, expectations = expectations, sets = sets
        await sets.addHandler { event in queue.add(Informer.key(event.object)) }
        await nodes.addHandler { _ in
            Task { for ds in await sets.list() { queue.add(Informer.key(ds)) } }
        }
        await pods.addHandler(ControllerRef.queueOwner(kind: "DaemonSet", owners: sets, queue, expectations))
        await sets.waitForSync()
        await nodes.waitForSync()
        await pods.waitForSync()
        await history.revisions.waitForSync()
    }

    /// The node a daemon pod is for: where it runs, else the node its affinity pins.
    static func node(of pod: JSON) -> String? {
        if let n = pod["spec"]["nodeName"].string, !n.isEmpty { return n }
        let terms = pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"].array ?? []
        return terms.first?["matchFields"].array?.first { $0["key"] == "metadata.name" }?["values"][0].string
    }

    /// Whether a daemon pod should run on the node (`running: false`), or, for one already
    /// there, may go on running: a NoSchedule taint keeps new pods off but evicts none, as
    /// upstream's nodeShouldRunDaemonPod decides; only NoExecute ones drive pods out.
    func fits(_ template: JSON, _ node: JSON, running: Bool = false) -> Bool {
        var pod: JSON = ["spec": template["spec"]]
        pod["spec"]["tolerations"] = .array((template["spec"]["tolerations"].array ?? []) + Self.tolerations)
        guard NodeAffinity.matches(pod, node) else { return false }
        return (node["spec"]["taints"].array ?? []).allSatisfy { taint in
            taint["effect"] == "PreferNoSchedule" || (running && taint["effect"] == "NoSchedule") || Taints.podTolerates(pod, taint)
        }
    }

    public func reconcile(_ key: String) async throws {
        guard let ds = await sets.get(key), ds["metadata"]["deletionTimestamp"].isNull else {
            expectations.forget(key)
            return
        }
        let template = ds["spec"]["template"]
        let hash = DeploymentController.templateHash(template, collisionCount: ds["status"]["collisionCount"].int ?? 0)
        let revision = try await history.ensure(ds, hash: hash)
        let owned = try await ControllerClaims.pods(of: ds, pods, client).filter { $0["metadata"]["deletionTimestamp"].isNull }
        var byNode: [String: [JSON]] = [:]
        for pod in owned { if let n = Self.node(of: pod) { byNode[n, default: []].append(pod) } }
        let allNodes = await nodes.list()
        let eligible = Set(allNodes.filter { fits(template, $0) }.compactMap { $0["metadata"]["name"].string })
        let keeping = Set(allNodes.filter { fits(template, $0, running: true) }.compactMap { $0["metadata"]["name"].string })

        if expectations.satisfied(key) {
            var toCreate: [String] = [], toDelete: [JSON] = []
            for node in eligible.sorted() {
                let here = byNode[node] ?? []
                if here.isEmpty { toCreate.append(node) }
                toDelete += here.dropFirst()
                toDelete += here.filter { $0["status"]["phase"] == "Failed" }
            }
            for (node, here) in byNode where !keeping.contains(node) { toDelete += here }
            // Rolling update: replace old pods while no more than maxUnavailable are down.
            if toCreate.isEmpty && toDelete.isEmpty && ds["spec"]["updateStrategy"]["type"].string != "OnDelete" {
                let maxUnavailable = Self.maxUnavailable(ds, desired: eligible.count)
                let unavailable = eligible.filter { n in !(byNode[n]?.contains(where: ControllerRef.isReady) ?? false) }.count
                let old = eligible.sorted().compactMap { byNode[$0]?.first }.filter { $0["metadata"]["labels"][Self.hashLabel].string != hash }
                toDelete += old.prefix(max(0, maxUnavailable - unavailable))
            }
            for node in toCreate { try await createPod(ds, node: node, hash: hash, key: key) }
            for pod in toDelete {
                let (ns, name) = Informer.split(Informer.key(pod))
                expectations.expect(key, deletes: [Informer.key(pod)])
                do throws(StatusError) {
                    try await client.pods.delete(ns, name)
                    events.normal(ds, "SuccessfulDelete", "Deleted pod: \(name)")
                } catch {
                    expectations.observedDelete(key, Informer.key(pod))
                    if error.code != 404 { throw error }
                }
            }
        }

        let minReady = ds["spec"]["minReadySeconds"].int ?? 0
        let scheduled = eligible.filter { byNode[$0] != nil }
        let ready = scheduled.filter { n in byNode[n]!.contains(where: ControllerRef.isReady) }.count
        let available = scheduled.filter { n in byNode[n]!.contains { ControllerRef.isAvailable($0, minReadySeconds: minReady) } }.count
        let updated = scheduled.filter { n in byNode[n]!.contains { $0["metadata"]["labels"][Self.hashLabel].string == hash } }.count
        var status = ds["status"]
        let before = status
        status["observedGeneration"] = ds["metadata"]["generation"]
        status["desiredNumberScheduled"] = .int(Int64(eligible.count))
        status["currentNumberScheduled"] = .int(Int64(scheduled.count))
        status["numberMisscheduled"] = .int(Int64(byNode.keys.filter { !eligible.contains($0) }.count))
        status["numberReady"] = .int(Int64(ready))
        status["numberAvailable"] = available > 0 ? .int(Int64(available)) : nil
        status["numberUnavailable"] = eligible.count - available > 0 ? .int(Int64(eligible.count - available)) : nil
        status["updatedNumberScheduled"] = updated > 0 ? .int(Int64(updated)) : nil
        let live = Set(owned.compactMap { $0["metadata"]["labels"][Self.hashLabel].string.map { "\(Informer.split(key).name)-\($0)" } })
        try await history.truncate(ds, live: live.union([revision]))
        guard status != before else { return }
        let (ns, name) = Informer.split(key)
        do throws(StatusError) {
            try await client.resource("apps", "v1", "daemonsets").modify(ns, name, status: true) { [status] in $0["status"] = status }
        } catch {
            if error.code != 404 { throw error }
        }
    }

    /// Percentages round up, as upstream's; at least one pod is replaced at a time.
    static func maxUnavailable(_ ds: JSON, desired: Int) -> Int {
        let v = ds["spec"]["updateStrategy"]["rollingUpdate"]["maxUnavailable"]
        return max(1, Int(IntOrString.scaledValue(v, total: Int64(desired), roundUp: true) ?? 1))
    }

    func createPod(_ ds: JSON, node: String, hash: String, key: String) async throws {
        let namespace = ds["metadata"]["namespace"].string ?? ""
        let template = ds["spec"]["template"]
        var pod = ControllerRef.pod(from: template, owner: ds, generateName: (ds["metadata"]["name"].string ?? "") + "-")
        pod["metadata"]["labels"][Self.hashLabel] = .string(hash)
        pod["metadata"]["labels"]["pod-template-generation"] = .string(String(ds["metadata"]["generation"].int ?? 1))
        pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] =
            ["nodeSelectorTerms": [["matchFields": [["key": "metadata.name", "operator": "In", "values": [.string(node)]]]]]]
        var tolerations = template["spec"]["tolerations"].array ?? []
        for t in Self.tolerations where !tolerations.contains(t) { tolerations.append(t) }
        pod["spec"]["tolerations"] = .array(tolerations)
        expectations.expect(key, adds: 1)
        do throws(StatusError) {
            let created = try await client.pods.create(namespace, pod)
            events.normal(ds, "SuccessfulCreate", "Created pod: \(created["metadata"]["name"].string ?? "")")
        } catch {
            expectations.lower(key, adds: 1)
            throw error
        }
    }
}
