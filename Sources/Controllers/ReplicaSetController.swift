import APIMachinery
import Client
import Foundation

/// Keeps spec.replicas pods running for each ReplicaSet (and, with the same logic as upstream,
/// each ReplicationController): creates pods from the template with the set as controlling
/// owner, deletes the least valuable extra ones, and reports replicas, readiness and
/// availability in status.
public struct ReplicaSetController: Controller {
    public let name: String
    public let queue = WorkQueue()
    let client: Client
    let resource: ResourceClient
    let kind: String
    let sets: Informer
    let pods: Informer
    let expectations = Expectations()
    let events: EventRecorder

    /// ReplicaSets (apps/v1).
    public static func replicaSets(client: Client, informers: InformerFactory) -> ReplicaSetController {
        ReplicaSetController(name: "replicaset", client: client, informers: informers, group: "apps", plural: "replicasets", kind: "ReplicaSet")
    }

    /// ReplicationControllers (v1): a map selector instead of a label selector, otherwise the same.
    public static func replicationControllers(client: Client, informers: InformerFactory) -> ReplicaSetController {
        ReplicaSetController(name: "replicationcontroller", client: client, informers: informers, group: "", plural: "replicationcontrollers",
                             kind: "ReplicationController")
    }

    init(name: String, client: Client, informers: InformerFactory, group: String, plural: String, kind: String) {
        self.name = name
        self.client = client
        self.kind = kind
        resource = client.resource(group, "v1", plural)
        sets = informers.informer(group, "v1", plural)
        pods = informers.pods
        events = EventRecorder(client: client, component: "\(name)-controller")
    }

    public func register() async {
        let queue = queue, expectations = expectations, kind = kind, sets = sets
        await sets.addHandler { event in queue.add(Informer.key(event.object)) }
        await pods.addHandler(ControllerRef.queueOwner(kind: kind, owners: sets, selector: { Self.selector($0, kind: kind) }, queue, expectations))
        await sets.waitForSync()
        await pods.waitForSync()
    }

    public func reconcile(_ key: String) async throws {
        guard let set = await sets.get(key) else {
            expectations.forget(key)
            return
        }
        var active = await pods.list(controlledBy: set).filter(ControllerRef.isActive)
        if let selector = Self.selector(set, kind: kind) {
            active = try await ControllerClaims(pods, client.pods).claim(set, selector: selector, where: ControllerRef.isActive)
        }
        if expectations.satisfied(key), set["metadata"]["deletionTimestamp"].isNull {
            try await manage(set, key: key, active: active)
        }
        try await updateStatus(set, active: active)
    }

    func manage(_ set: JSON, key: String, active: [JSON]) async throws {
        let namespace = set["metadata"]["namespace"].string ?? ""
        let want = Int(set["spec"]["replicas"].int ?? 1)
        let diff = want - active.count
        if diff > 0 {
            let count = min(diff, SlowStart.burst)
            let template = set["spec"]["template"], generateName = (set["metadata"]["name"].string ?? "") + "-"
            let client = client, events = events
            expectations.expect(key, adds: count)
            let (created, failure) = await SlowStart.run(count) { _ throws(StatusError) in
                do throws(StatusError) {
                    let pod = try await client.pods.create(namespace, ControllerRef.pod(from: template, owner: set, generateName: generateName))
                    events.normal(set, "SuccessfulCreate", "Created pod: \(pod["metadata"]["name"].string ?? "")")
                } catch {
                    events.warning(set, "FailedCreate", "Error creating: \(error.message)")
                    throw error
                }
            }
            expectations.lower(key, adds: count - created)
            if let failure { throw failure }
        } else if diff < 0 {
            let victims = Array(active.sorted(by: Self.deletedFirst).prefix(min(-diff, SlowStart.burst)))
            let client = client, events = events, expectations = expectations
            expectations.expect(key, deletes: victims.map(Informer.key))
            if let failure = await SlowStart.all(victims, { pod throws(StatusError) in
                let name = pod["metadata"]["name"].string ?? ""
                do throws(StatusError) {
                    try await client.pods.delete(namespace, name)
                    events.normal(set, "SuccessfulDelete", "Deleted pod: \(name)")
                } catch {
                    expectations.observedDelete(key, Informer.key(pod))
                    if error.code != 404 { throw error }
                }
            }) { throw failure }
        }
    }

    /// A ReplicaSet's label selector, or a ReplicationController's map (its template's labels
    /// when unset); nil when empty, which adopts nothing.
    static func selector(_ set: JSON, kind: String) -> LabelSelector? {
        guard kind == "ReplicationController" else { return ControllerClaims.selector(set) }
        let map = set["spec"]["selector"].isNull ? set["spec"]["template"]["metadata"]["labels"] : set["spec"]["selector"]
        return ControllerClaims.selector(["spec": ["selector": ["matchLabels": map]]])
    }

    /// Upstream's ranking of pods to delete: unscheduled before scheduled, pending before
    /// running, not ready before ready, then the newest first.
    static func deletedFirst(_ a: JSON, _ b: JSON) -> Bool {
        func rank(_ p: JSON) -> (Int, Int, Int) {
            let scheduled = (p["spec"]["nodeName"].string ?? "").isEmpty ? 0 : 1
            let phase = ["Pending": 0, "Unknown": 1, "Running": 2][p["status"]["phase"].string ?? "Pending"] ?? 0
            return (scheduled, phase, ControllerRef.isReady(p) ? 1 : 0)
        }
        let ra = rank(a), rb = rank(b)
        if ra != rb { return ra < rb }
        return (a["metadata"]["creationTimestamp"].string ?? "") > (b["metadata"]["creationTimestamp"].string ?? "")
    }

    func updateStatus(_ set: JSON, active: [JSON]) async throws {
        let minReady = set["spec"]["minReadySeconds"].int ?? 0
        let templateLabels = set["spec"]["template"]["metadata"]["labels"].stringMap
        // One pass: a set with thousands of pods is counted again at every change to one of them.
        var ready = 0, available = 0, fullyLabeled = 0
        let now = Date()
        for pod in active {
            let labels = pod["metadata"]["labels"]
            if templateLabels.allSatisfy({ labels[$0.key].string == $0.value }) { fullyLabeled += 1 }
            guard ControllerRef.isReady(pod) else { continue }
            ready += 1
            if ControllerRef.isAvailable(pod, minReadySeconds: minReady, now: now) { available += 1 }
        }
        var status = set["status"]
        status["replicas"] = .int(Int64(active.count))
        status["fullyLabeledReplicas"] = .int(Int64(fullyLabeled))
        status["readyReplicas"] = ready > 0 ? .int(Int64(ready)) : nil
        status["availableReplicas"] = available > 0 ? .int(Int64(available)) : nil
        status["observedGeneration"] = set["metadata"]["generation"]
        if ready > available { queue.add(Informer.key(set), after: .seconds(minReady)) }
        guard status != set["status"] else { return }
        let (namespace, name) = Informer.split(Informer.key(set))
        do throws(StatusError) {
            try await resource.modify(namespace, name, status: true) { [status] in $0["status"] = status }
        } catch {
            if error.code != 404 { throw error }
        }
    }
}
