import APIMachinery
import Client
import Foundation

/// The default scheduler: takes each pod with no node, filters the nodes it fits on
/// (NodeFilters), scores those (least allocated, then fewest replicas of the same owner), and
/// binds it through pods/binding. As upstream's, it decides one pod at a time and binds in the
/// background, the pod assumed on its node meanwhile, so the next decision need not wait for a
/// write. When nothing fits, the pod gets PodScheduled=False
/// (Unschedulable) and a FailedScheduling event in upstream's words, and is tried again when a
/// node changes or a pod frees room.
public struct Scheduler: Controller {
    public let name = "default-scheduler"
    public let queue = WorkQueue()
    public var workers: Int { 1 }
    let client: Client
    let pods: Informer
    let nodes: Informer
    let cache = SchedulerCache()
    let events: EventRecorder

    public init(client: Client, informers: InformerFactory) {
        self.client = client
        pods = informers.pods
        nodes = informers.nodes
        events = EventRecorder(client: client, component: "default-scheduler")
    }

    public func register() async {
        let cache = cache, queue = queue
        await nodes.addHandler { event in
            switch event {
            case .deleted(let node): cache.nodeDeleted(node)
            default: if cache.nodeChanged(event.object) { Self.retry(cache, queue) }
            }
        }
        await pods.addHandler { event in
            let pod = event.object
            let key = Informer.key(pod)
            if case .deleted = event {
                if cache.podChanged(key, nil) { Self.retry(cache, queue) }
                return
            }
            if cache.podChanged(key, pod) { Self.retry(cache, queue) }
            if Self.needsScheduling(pod) { queue.add(key) }
        }
        await nodes.waitForSync()
        await pods.waitForSync()
    }

    static func retry(_ cache: SchedulerCache, _ queue: WorkQueue) {
        for key in cache.takeUnschedulable() { queue.add(key) }
    }

    static func needsScheduling(_ pod: JSON) -> Bool {
        (pod["spec"]["nodeName"].string ?? "").isEmpty && pod["metadata"]["deletionTimestamp"].isNull
            && (pod["spec"]["schedulerName"].string ?? "default-scheduler") == "default-scheduler"
    }

    public func reconcile(_ key: String) async throws {
        guard let pod = await pods.get(key), Self.needsScheduling(pod), !cache.isAssumed(key) else { return }
        let requests = PodRequests(pod)
        let owner = SchedulerCache.owner(pod)
        let infos = cache.snapshot()
        var failures: [String: Int] = [:], preemption: [String: Int] = [:]
        var bestScore = -Double.infinity
        var chosen: String?
        for info in infos {
            let reasons = NodeFilters.reasons(pod, requests, info)
            if !reasons.isEmpty {
                for r in reasons { failures[r, default: 0] += 1 }
                // Evicting pods could make room only where resources were short.
                let helps = reasons.allSatisfy(NodeFilters.resourceReasons.contains)
                preemption[helps ? "No preemption victims found for incoming pod" : "Preemption is not helpful for scheduling", default: 0] += 1
                continue
            }
            let score = Self.score(requests, info, owner: owner)
            if score > bestScore {
                bestScore = score
                chosen = info.node["metadata"]["name"].string
            }
        }
        guard let nodeName = chosen else {
            if let candidate = await preemptionCandidate(pod, requests, infos) {
                await preempt(pod, victims: candidate.victims, node: candidate.node)
                // Once the victims are gone the pod fits; until then it waits as unschedulable.
                try await markUnschedulable(pod, key: key, message: Self.failureMessage(nodes: infos.count, failures, preemption: [:]))
                return
            }
            try await markUnschedulable(pod, key: key, message: Self.failureMessage(nodes: infos.count, failures, preemption: preemption))
            return
        }
        cache.assume(key, pod, on: nodeName)
        Task { await bind(pod, key: key, to: nodeName) }
    }

    func bind(_ pod: JSON, key: String, to nodeName: String) async {
        let (namespace, podName) = Informer.split(key)
        do throws(StatusError) {
            let bound = try await client.bind(namespace: namespace ?? "", pod: podName, to: nodeName)
            cache.podChanged(key, bound)
            events.normal(pod, "Scheduled", "Successfully assigned \(key) to \(nodeName)")
        } catch {
            cache.forget(key)
            // Deleted, or bound meanwhile: nothing left to do. Otherwise it is tried again.
            if error.code != 404 && error.code != 409 { queue.addRateLimited(key) }
        }
    }

    /// Upstream's LeastAllocated (mean free share of CPU and memory, 0-100) less a spreading
    /// penalty for replicas of the same owner already there.
    static func score(_ r: PodRequests, _ info: NodeInfo, owner: String?) -> Double {
        func free(_ used: Int64, _ capacity: Int64) -> Double {
            capacity <= 0 ? 0 : max(0, (Double(capacity) - Double(used)) / Double(capacity)) * 100
        }
        let cpu = free(info.requested.milliCPU.addingSaturated(r.milliCPU), info.allocatableMilliCPU)
        let memory = free(info.requested.memory.addingSaturated(r.memory), info.allocatableMemory)
        let sameOwner = owner.map { info.owners[$0] ?? 0 } ?? 0
        return (cpu + memory) / 2 - Double(sameOwner) * 10 - Double(info.pods.count) * 0.01
    }

    /// `0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No
    /// preemption victims found for incoming pod..`
    static func failureMessage(nodes: Int, _ failures: [String: Int], preemption: [String: Int]) -> String {
        guard nodes > 0 else { return "no nodes available to schedule pods" }
        let histogram = { (counts: [String: Int]) in counts.map { "\($0.value) \($0.key)" }.sorted().joined(separator: ", ") }
        // After a preemption the post-filter says nothing more.
        guard !preemption.isEmpty else { return "0/\(nodes) nodes are available: \(histogram(failures))." }
        // The post-filter's own message ends in a period, and the separator adds one: upstream
        // really prints "..incoming pod..".
        return "0/\(nodes) nodes are available: \(histogram(failures)). preemption: 0/\(nodes) nodes are available: \(histogram(preemption)).."
    }

    func markUnschedulable(_ pod: JSON, key: String, message: String) async throws {
        cache.markUnschedulable(key)
        let (namespace, name) = Informer.split(key)
        let already = pod["status"]["conditions"].array?.contains { $0["type"] == "PodScheduled" && $0["message"].string == message } ?? false
        if !already {
            do throws(StatusError) {
                try await client.pods.modify(namespace, name, status: true) { p in
                    PodConditions.set(&p, type: "PodScheduled", status: "False", reason: "Unschedulable", message: message)
                }
            } catch {
                if error.code == 404 { return }
                throw error
            }
        }
        events.warning(pod, "FailedScheduling", message)
    }
}
