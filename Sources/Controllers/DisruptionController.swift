import APIMachinery
import Client
import Resources
import Foundation
import Synchronization

/// Keeps every PodDisruptionBudget's status, as upstream's disruption controller: how many of
/// its pods are expected (their controllers' replicas, or the pods themselves for an integer
/// minAvailable), how many must stay healthy, how many are healthy (Ready, not being deleted,
/// not just evicted), and so how many disruptions the eviction subresource may allow now.
public struct DisruptionController: Controller {
    public let name = "disruption"
    public let queue = WorkQueue()
    let client: Client
    let budgets: Informer
    let pods: Informer
    let replicaSets: Informer
    let deployments: Informer
    let replicationControllers: Informer
    let statefulSets: Informer
    let events: EventRecorder
    /// How many budgets each namespace has, read on every pod event without waiting on an actor.
    let budgetsPerNamespace = NamespaceCounts()

    final class NamespaceCounts: Sendable {
        let counts = Mutex<[String: Int]>([:])
        func change(_ namespace: String, by delta: Int) {
            counts.withLock { c in
                let n = (c[namespace] ?? 0) + delta
                c[namespace] = n > 0 ? n : nil
            }
        }
        func has(_ namespace: String) -> Bool { counts.withLock { $0[namespace] != nil } }
    }

    /// Upstream's DeletionTimeout: an evicted pod not deleted within this counts as healthy again.
    static let deletionTimeout: TimeInterval = 120

    public init(client: Client, informers: InformerFactory) {
        self.client = client
        budgets = informers.informer("policy", "v1", "poddisruptionbudgets")
        pods = informers.pods
        replicaSets = informers.informer("apps", "v1", "replicasets")
        deployments = informers.informer("apps", "v1", "deployments")
        replicationControllers = informers.informer("", "v1", "replicationcontrollers")
        statefulSets = informers.informer("apps", "v1", "statefulsets")
        events = EventRecorder(client: client, component: "controllermanager")
    }

    public func register() async {
        let queue = queue, budgets = budgets, counts = budgetsPerNamespace
        await budgets.addHandler { event in
            let ns = event.object["metadata"]["namespace"].string ?? ""
            switch event {
            case .added: counts.change(ns, by: 1)
            case .deleted: counts.change(ns, by: -1)
            case .updated: break
            }
            if case .deleted = event { return }
            queue.add(Informer.key(event.object))
        }
        await pods.addHandler { event in
            guard let ns = event.object["metadata"]["namespace"].string, counts.has(ns) else { return }
            var labels = [event.object["metadata"]["labels"]]
            if case .updated(let old, _) = event { labels.append(old["metadata"]["labels"]) }
            Task {
                for budget in await budgets.list(namespace: ns) where labels.contains(where: { Self.selects(budget, $0) }) {
                    queue.add(Informer.key(budget))
                }
            }
        }
        for informer in [budgets, pods, replicaSets, deployments, replicationControllers, statefulSets] { await informer.waitForSync() }
    }

    /// In policy/v1 an empty selector selects every pod of the namespace, a missing one none.
    static func selects(_ budget: JSON, _ labels: JSON) -> Bool {
        guard !budget["spec"]["selector"].isNull, let selector = try? LabelSelector.fromStructured(budget["spec"]["selector"]) else { return false }
        return selector.matches(labels: labels)
    }

    struct ExpectedScaleFailure: Error { let message: String }

    public func reconcile(_ key: String) async throws {
        guard let budget = await budgets.get(key), budget["metadata"]["deletionTimestamp"].isNull else { return }
        let namespace = Informer.split(key).namespace
        let selected = await pods.list(namespace: namespace) { Self.selects(budget, $0["metadata"]["labels"]) }
        let now = Date()

        // Evicted pods count as gone until they are, or until the deletion timeout says the
        // eviction did not take.
        var disrupted: [String: JSON] = [:]
        var recheck: Date?
        let byName = Dictionary(selected.map { ($0["metadata"]["name"].string ?? "", $0) }, uniquingKeysWith: { a, _ in a })
        for (name, time) in budget["status"]["disruptedPods"].object ?? [:] {
            guard let pod = byName[name], pod["metadata"]["deletionTimestamp"].isNull,
                  let at = time.string.flatMap(APITime.parse) else { continue }
            let expires = at.addingTimeInterval(Self.deletionTimeout)
            if expires > now {
                disrupted[name] = time
                recheck = min(recheck ?? expires, expires)
            }
        }
        if let recheck { queue.add(key, after: .milliseconds(Int64(recheck.timeIntervalSince(now) * 1000) + 1)) }
        let healthy = selected.filter { pod in
            pod["metadata"]["deletionTimestamp"].isNull && disrupted[pod["metadata"]["name"].string ?? ""] == nil && ControllerRef.isReady(pod)
        }.count

        var updated = budget
        updated["status"]["observedGeneration"] = budget["metadata"]["generation"]
        updated["status"]["disruptedPods"] = disrupted.isEmpty ? nil : .object(disrupted)
        var news: [(type: String, reason: String, message: String)] = []
        if selected.isEmpty { news.append(("Normal", "NoPods", "No matching pods found")) }
        do {
            let (expected, desired) = try await expectation(budget, selected)
            let allowed = max(0, Int64(healthy) - desired)
            updated["status"]["currentHealthy"] = .int(Int64(healthy))
            updated["status"]["desiredHealthy"] = .int(desired)
            updated["status"]["expectedPods"] = .int(expected)
            updated["status"]["disruptionsAllowed"] = .int(allowed)
            PodDisruptionBudgetStatus.setAllowedCondition(&updated, allowed: allowed > 0, now: now)
        } catch let failure as ExpectedScaleFailure {
            // Fail safe, as upstream: no disruptions while the expected count is unknown.
            updated["status"]["disruptionsAllowed"] = 0
            PodDisruptionBudgetStatus.setAllowedCondition(&updated, allowed: false, reason: "SyncFailed", message: failure.message, now: now)
            news.append(("Warning", "CalculateExpectedPodCountFailed", "Failed to calculate the number of expected pods: \(failure.message)"))
        }
        guard updated["status"] != budget["status"] else { return }
        do throws(StatusError) {
            try await client.resource("policy", "v1", "poddisruptionbudgets").updateStatus(namespace, updated)
        } catch {
            if error.code == 404 { return }
            throw error
        }
        for event in news { events.record(budget, event.type, event.reason, event.message) }
    }

    /// (expectedPods, desiredHealthy), as upstream's getExpectedPodCount.
    func expectation(_ budget: JSON, _ pods: [JSON]) async throws -> (Int64, Int64) {
        let spec = budget["spec"]
        if !spec["maxUnavailable"].isNull {
            let expected = try await expectedScale(pods)
            let unavailable = IntOrString.scaledValue(spec["maxUnavailable"], total: expected, roundUp: true) ?? 0
            return (expected, max(0, expected - unavailable))
        }
        if let minimum = spec["minAvailable"].int { return (Int64(pods.count), minimum) }
        if !spec["minAvailable"].isNull {
            let expected = try await expectedScale(pods)
            return (expected, IntOrString.scaledValue(spec["minAvailable"], total: expected, roundUp: true) ?? 0)
        }
        return (Int64(pods.count), 0)
    }

    /// The replicas of the controllers of the pods, each counted once: a ReplicaSet's own or its
    /// Deployment's, a ReplicationController's, a StatefulSet's.
    func expectedScale(_ pods: [JSON]) async throws -> Int64 {
        var scales: [String: Int64] = [:]
        for pod in pods {
            let ns = pod["metadata"]["namespace"].string ?? ""
            guard let ref = ControllerRef.controller(of: pod), let name = ref["name"].string else {
                throw ExpectedScaleFailure(message: "found no controller ref for pod \"\(pod["metadata"]["name"].string ?? "")\"")
            }
            var owner: JSON?
            switch ref["kind"].string {
            case "ReplicaSet":
                owner = await replicaSets.get("\(ns)/\(name)")
                if let rs = owner, let up = ControllerRef.controller(of: rs), up["kind"] == "Deployment", let deployment = up["name"].string {
                    owner = await deployments.get("\(ns)/\(deployment)")
                }
            case "ReplicationController": owner = await replicationControllers.get("\(ns)/\(name)")
            case "StatefulSet": owner = await statefulSets.get("\(ns)/\(name)")
            default:
                throw ExpectedScaleFailure(message: "found no controllers for pod \"\(pod["metadata"]["name"].string ?? "")\"")
            }
            guard let owner, let uid = owner["metadata"]["uid"].string else { continue }
            scales[uid] = owner["spec"]["replicas"].int ?? 1
        }
        return scales.values.reduce(0, +)
    }
}
