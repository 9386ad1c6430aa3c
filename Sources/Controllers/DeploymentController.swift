import APIMachinery
import Client
import Foundation

/// Rolls Deployments out through ReplicaSets, as upstream's deployment controller: one
/// ReplicaSet per pod template (named by the template's hash, which also labels its pods), the
/// newest scaled up and the older ones down within maxSurge and maxUnavailable (or all old ones
/// first, for Recreate), revisions in annotations, history trimmed to revisionHistoryLimit,
/// pause and resume, and the Available and Progressing conditions `kubectl rollout status` reads.
public struct DeploymentController: Controller {
    public let name = "deployment"
    public let queue = WorkQueue()
    let client: Client
    let deployments: Informer
    let replicaSets: Informer
    let events: EventRecorder

    static let revisionAnnotation = "deployment.kubernetes.io/revision"
    static let desiredAnnotation = "deployment.kubernetes.io/desired-replicas"
    static let maxAnnotation = "deployment.kubernetes.io/max-replicas"
    static let hashLabel = "pod-template-hash"
    /// Annotations that describe the Deployment object itself, never copied to its ReplicaSets.
    static let notCopied: Set<String> = ["kubectl.kubernetes.io/last-applied-configuration", revisionAnnotation,
                                         "deployment.kubernetes.io/revision-history", desiredAnnotation, maxAnnotation]

    public init(client: Client, informers: InformerFactory) {
        self.client = client
        deployments = informers.informer("apps", "v1", "deployments")
        replicaSets = informers.informer("apps", "v1", "replicasets")
        events = EventRecorder(client: client, component: "deployment-controller")
    }

    var deploymentClient: ResourceClient { client.resource("apps", "v1", "deployments") }
    var replicaSetClient: ResourceClient { client.resource("apps", "v1", "replicasets") }

    public func register() async {
        let queue = queue
        await deployments.addHandler { event in queue.add(Informer.key(event.object)) }
        let deployments = deployments
        await replicaSets.addHandler { event in
            let rs = event.object
            guard let owner = ControllerRef.controller(of: rs) else {
                if case .deleted = event { return }
                return ControllerClaims.queueAdopters(of: rs, owners: deployments, selector: ControllerClaims.selector, queue)
            }
            guard owner["kind"] == "Deployment", let name = owner["name"].string, let ns = rs["metadata"]["namespace"].string else { return }
            queue.add("\(ns)/\(name)")
        }
        await deployments.waitForSync()
        await replicaSets.waitForSync()
    }

    // MARK: reconcile

    public func reconcile(_ key: String) async throws {
        guard let d = await deployments.get(key), d["metadata"]["deletionTimestamp"].isNull else { return }
        var sets = await replicaSets.list(controlledBy: d)
        if let selector = ControllerClaims.selector(d) {
            sets = try await ControllerClaims(replicaSets, replicaSetClient).claim(d, selector: selector)
        }
        let template = d["spec"]["template"]
        var newRS = sets.first { Self.templateMatches($0["spec"]["template"], template) }
        let olds = sets.filter { Self.key($0) != newRS.map(Self.key) }
        let replicas = d["spec"]["replicas"].int ?? 1
        let paused = d["spec"]["paused"].bool == true
        let (maxSurge, maxUnavailable) = Self.rollingBounds(d)
        var createdNew = false

        if paused {
            // A paused rollout only follows spec.replicas, on the newest set.
            if let target = newRS ?? sets.max(by: { Self.revision($0) < Self.revision($1) }),
               olds.allSatisfy({ ($0["spec"]["replicas"].int ?? 0) == 0 }) || newRS == nil {
                try await scale(target, to: replicas, d)
            }
        } else if d["spec"]["strategy"]["type"].string == "Recreate" {
            for old in olds where (old["spec"]["replicas"].int ?? 0) > 0 { try await scale(old, to: 0, d) }
            if olds.allSatisfy({ ($0["status"]["replicas"].int ?? 0) == 0 && ($0["spec"]["replicas"].int ?? 0) == 0 }) {
                if newRS == nil {
                    newRS = try await createReplicaSet(d, sets: sets, replicas: replicas)
                    createdNew = newRS != nil
                } else if let rs = newRS {
                    try await scale(rs, to: replicas, d)
                }
            }
        } else {
            if newRS == nil {
                let current = olds.reduce(0) { $0 + ($1["spec"]["replicas"].int ?? 0) }
                let initial = max(0, min(replicas + maxSurge - current, replicas))
                newRS = try await createReplicaSet(d, sets: sets, replicas: initial)
                createdNew = newRS != nil
            } else if let rs = newRS {
                try await rollNewReplicaSet(rs, olds: olds, d, maxSurge: maxSurge)
            }
            if let rs = newRS { try await rollOldReplicaSets(olds, new: rs, d, maxUnavailable: maxUnavailable) }
        }
        if let rs = newRS { try await stampRevision(d, rs, sets: sets) }

        sets = await replicaSets.list(controlledBy: d)
        newRS = sets.first { Self.templateMatches($0["spec"]["template"], template) }
        try await updateStatus(d, sets: sets, newRS: newRS, createdNew: createdNew, maxUnavailable: maxUnavailable)
    }

    /// The rollout's surge and unavailability allowances, percentages resolved against
    /// spec.replicas (surge rounded up, unavailable down; never both zero).
    static func rollingBounds(_ d: JSON) -> (surge: Int64, unavailable: Int64) {
        guard d["spec"]["strategy"]["type"].string != "Recreate" else { return (0, 0) }
        let replicas = d["spec"]["replicas"].int ?? 1
        let ru = d["spec"]["strategy"]["rollingUpdate"]
        func resolve(_ v: JSON, roundUp: Bool) -> Int64 {
            IntOrString.scaledValue(v, total: replicas, roundUp: roundUp) ?? (roundUp ? 1 : 0)
        }
        let surge = resolve(ru["maxSurge"].isNull ? "25%" : ru["maxSurge"], roundUp: true)
        var unavailable = resolve(ru["maxUnavailable"].isNull ? "25%" : ru["maxUnavailable"], roundUp: false)
        if surge == 0 && unavailable == 0 { unavailable = 1 }
        return (surge, min(unavailable, replicas))
    }

    func rollNewReplicaSet(_ rs: JSON, olds: [JSON], _ d: JSON, maxSurge: Int64) async throws {
        let replicas = d["spec"]["replicas"].int ?? 1
        let current = rs["spec"]["replicas"].int ?? 0
        if current > replicas || olds.allSatisfy({ ($0["spec"]["replicas"].int ?? 0) == 0 }) {
            if current != replicas { try await scale(rs, to: replicas, d) }
            return
        }
        let total = olds.reduce(current) { $0 + ($1["spec"]["replicas"].int ?? 0) }
        let room = replicas + maxSurge - total
        if room > 0 { try await scale(rs, to: current + min(room, replicas - current), d) }
    }

    func rollOldReplicaSets(_ olds: [JSON], new rs: JSON, _ d: JSON, maxUnavailable: Int64) async throws {
        let active = olds.filter { ($0["spec"]["replicas"].int ?? 0) > 0 }.sorted { Self.revision($0) < Self.revision($1) }
        guard !active.isEmpty else { return }
        let replicas = d["spec"]["replicas"].int ?? 1
        let all = [rs] + olds
        let total = all.reduce(0) { $0 + ($1["spec"]["replicas"].int ?? 0) }
        let minAvailable = replicas - maxUnavailable
        let newUnavailable = (rs["spec"]["replicas"].int ?? 0) - (rs["status"]["availableReplicas"].int ?? 0)
        var budget = total - minAvailable - newUnavailable
        guard budget > 0 else { return }
        var scaled: [String: Int64] = [:]
        // First the old pods that are not available anyway...
        for old in active where budget > 0 {
            let want = old["spec"]["replicas"].int ?? 0
            let unhealthy = want - (old["status"]["availableReplicas"].int ?? 0)
            guard unhealthy > 0 else { continue }
            let down = min(unhealthy, budget)
            scaled[Self.key(old)] = want - down
            budget -= down
        }
        // ...then available ones, as far as availability allows.
        let available = all.reduce(0) { $0 + ($1["status"]["availableReplicas"].int ?? 0) }
        var allowed = available - minAvailable
        for old in active where allowed > 0 {
            let want = scaled[Self.key(old)] ?? old["spec"]["replicas"].int ?? 0
            let down = min(want, allowed)
            scaled[Self.key(old)] = want - down
            allowed -= down
        }
        for old in active {
            if let target = scaled[Self.key(old)], target != old["spec"]["replicas"].int { try await scale(old, to: target, d) }
        }
    }

    // MARK: replica sets

    func createReplicaSet(_ d: JSON, sets: [JSON], replicas: Int64) async throws -> JSON? {
        let name = d["metadata"]["name"].string ?? "", namespace = d["metadata"]["namespace"].string ?? ""
        let collisions = d["status"]["collisionCount"].int ?? 0
        let hash = Self.templateHash(d["spec"]["template"], collisionCount: collisions)
        var template = d["spec"]["template"]
        template["metadata"]["labels"][Self.hashLabel] = .string(hash)
        var selector = d["spec"]["selector"]
        selector["matchLabels"][Self.hashLabel] = .string(hash)
        var annotations: [String: JSON] = [:]
        for (k, v) in d["metadata"]["annotations"].object ?? [:] where !Self.notCopied.contains(k) { annotations[k] = v }
        let (surge, _) = Self.rollingBounds(d)
        let desired = d["spec"]["replicas"].int ?? 1
        annotations[Self.revisionAnnotation] = .string(String(sets.map(Self.revision).max().map { $0 + 1 } ?? 1))
        annotations[Self.desiredAnnotation] = .string(String(desired))
        annotations[Self.maxAnnotation] = .string(String(desired + surge))
        var labels = template["metadata"]["labels"]
        labels[Self.hashLabel] = .string(hash)
        let rs: JSON = [
            "apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": ["name": .string("\(name)-\(hash)"), "namespace": .string(namespace), "labels": labels,
                         "annotations": .object(annotations), "ownerReferences": [ControllerRef.reference(to: d)]],
            "spec": ["replicas": .int(replicas), "minReadySeconds": d["spec"]["minReadySeconds"].isNull ? 0 : d["spec"]["minReadySeconds"],
                     "selector": selector, "template": template],
        ]
        do throws(StatusError) {
            let created = try await replicaSetClient.create(namespace, rs)
            if replicas > 0 {
                events.normal(d, "ScalingReplicaSet", "Scaled up replica set \(name)-\(hash) from 0 to \(replicas)")
            }
            return created
        } catch {
            guard error.code == 409 else { throw error }
            // The name is taken: ours from a sync the informer has not shown yet, or a hash
            // collision, which a bumped collisionCount resolves on the next sync.
            let existing = try? await replicaSetClient.get(namespace, "\(name)-\(hash)")
            if let existing, ControllerRef.isControlled(existing, by: d), Self.templateMatches(existing["spec"]["template"], d["spec"]["template"]) {
                return existing
            }
            try await deploymentClient.modify(namespace, name, status: true) { o in
                o["status"]["collisionCount"] = .int((o["status"]["collisionCount"].int ?? 0) + 1)
            }
            return nil
        }
    }

    func scale(_ rs: JSON, to replicas: Int64, _ d: JSON) async throws {
        let current = rs["spec"]["replicas"].int ?? 0
        let (surge, _) = Self.rollingBounds(d)
        let desired = d["spec"]["replicas"].int ?? 1
        let (namespace, name) = Informer.split(Self.key(rs))
        let annotationsCurrent = rs["metadata"]["annotations"][Self.desiredAnnotation].string == String(desired)
        guard current != replicas || !annotationsCurrent else { return }
        try await replicaSetClient.modify(namespace, name) { o in
            o["spec"]["replicas"] = .int(replicas)
            o["metadata"]["annotations"][Self.desiredAnnotation] = .string(String(desired))
            o["metadata"]["annotations"][Self.maxAnnotation] = .string(String(desired + surge))
        }
        if current != replicas {
            let direction = replicas > current ? "up" : "down"
            events.normal(d, "ScalingReplicaSet", "Scaled \(direction) replica set \(name) from \(current) to \(replicas)")
        }
    }

    /// The new set carries the highest revision (an old template rolled back to becomes the
    /// newest revision again), and the Deployment shows it.
    func stampRevision(_ d: JSON, _ rs: JSON, sets: [JSON]) async throws {
        let others = sets.filter { Self.key($0) != Self.key(rs) }.map(Self.revision).max() ?? 0
        var revision = Self.revision(rs)
        let (namespace, name) = Informer.split(Self.key(rs))
        // The new set follows the Deployment's annotations (a change-cause written after the
        // rollout began shows in `rollout history`), as upstream's SetNewReplicaSetAnnotations.
        var copied: [String: JSON] = [:]
        for (k, v) in d["metadata"]["annotations"].object ?? [:] where !Self.notCopied.contains(k) { copied[k] = v }
        let stale = copied.contains { rs["metadata"]["annotations"][$0.key] != $0.value }
        if revision <= others || stale {
            if revision <= others { revision = others + 1 }
            let value = String(revision), annotations = copied
            try await replicaSetClient.modify(namespace, name) { o in
                for (k, v) in annotations { o["metadata"]["annotations"][k] = v }
                o["metadata"]["annotations"][Self.revisionAnnotation] = .string(value)
            }
        }
        if d["metadata"]["annotations"][Self.revisionAnnotation].string != String(revision) {
            let value = String(revision), dName = d["metadata"]["name"].string ?? ""
            try await deploymentClient.modify(namespace, dName) { o in o["metadata"]["annotations"][Self.revisionAnnotation] = .string(value) }
        }
    }

    func cleanup(_ d: JSON, sets: [JSON], newRS: JSON?) async throws {
        let limit = Int(d["spec"]["revisionHistoryLimit"].int ?? 10)
        let idle = sets.filter { Self.key($0) != newRS.map(Self.key) && ($0["spec"]["replicas"].int ?? 0) == 0
            && ($0["status"]["replicas"].int ?? 0) == 0 && $0["metadata"]["deletionTimestamp"].isNull }
            .sorted { Self.revision($0) < Self.revision($1) }
        guard idle.count > limit else { return }
        for rs in idle.prefix(idle.count - limit) {
            let (namespace, name) = Informer.split(Self.key(rs))
            do throws(StatusError) { try await replicaSetClient.delete(namespace, name) } catch { if error.code != 404 { throw error } }
        }
    }

    // MARK: status

    func updateStatus(_ d: JSON, sets: [JSON], newRS: JSON?, createdNew: Bool, maxUnavailable: Int64) async throws {
        let desired = d["spec"]["replicas"].int ?? 1
        func sum(_ field: String) -> Int64 { sets.reduce(0) { $0 + ($1["status"][field].int ?? 0) } }
        let total = sum("replicas"), available = sum("availableReplicas"), ready = sum("readyReplicas")
        let updated = newRS?["status"]["replicas"].int ?? 0
        let newName = newRS?["metadata"]["name"].string ?? ""
        let complete = updated == desired && total == desired && available == desired
            && (newRS?["status"]["observedGeneration"].int ?? -1) >= (newRS?["metadata"]["generation"].int ?? 0)
        var status = d["status"]
        let before = status
        status["observedGeneration"] = d["metadata"]["generation"]
        status["replicas"] = total > 0 ? .int(total) : nil
        status["updatedReplicas"] = updated > 0 ? .int(updated) : nil
        status["readyReplicas"] = ready > 0 ? .int(ready) : nil
        status["availableReplicas"] = available > 0 ? .int(available) : nil
        status["unavailableReplicas"] = max(desired - available, 0) > 0 ? .int(max(desired - available, 0)) : nil

        let now = APITime.format(Date())
        var conditions = status["conditions"].array ?? []
        func set(_ type: String, _ value: String, _ reason: String, _ message: String, touch: Bool = true) {
            var c: JSON = ["type": .string(type), "status": .string(value), "reason": .string(reason), "message": .string(message),
                           "lastUpdateTime": .string(now), "lastTransitionTime": .string(now)]
            // lastUpdateTime moves only when the condition says something new (or progress was made).
            if let old = conditions.first(where: { $0["type"].string == type }),
               !touch || (old["reason"].string == reason && old["message"].string == message && !createdNew
                          && before["updatedReplicas"] == status["updatedReplicas"] && before["availableReplicas"] == status["availableReplicas"]
                          && before["replicas"] == status["replicas"]) {
                c["lastUpdateTime"] = old["lastUpdateTime"]
            }
            Conditions.set(&conditions, c)
        }
        if available >= desired - maxUnavailable {
            set("Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability.")
        } else {
            set("Available", "False", "MinimumReplicasUnavailable", "Deployment does not have minimum availability.")
        }
        let progressing = conditions.first { $0["type"] == "Progressing" }
        let deadline = d["spec"]["progressDeadlineSeconds"].int ?? 600
        if d["spec"]["paused"].bool == true {
            set("Progressing", "Unknown", "DeploymentPaused", "Deployment is paused")
        } else if progressing?["reason"] == "DeploymentPaused" {
            set("Progressing", "Unknown", "DeploymentResumed", "Deployment is resumed")
        } else if complete {
            set("Progressing", "True", "NewReplicaSetAvailable", "ReplicaSet \"\(newName)\" has successfully progressed.")
        } else if createdNew {
            set("Progressing", "True", "NewReplicaSetCreated", "Created new replica set \"\(newName)\"")
        } else if !newName.isEmpty {
            let last = progressing?["lastUpdateTime"].string.flatMap(APITime.parse) ?? Date()
            let moved = before["updatedReplicas"] != status["updatedReplicas"] || before["availableReplicas"] != status["availableReplicas"]
                || before["replicas"] != status["replicas"]
            if !moved, progressing != nil, progressing?["reason"] != "ProgressDeadlineExceeded", Date().timeIntervalSince(last) > Double(deadline) {
                set("Progressing", "False", "ProgressDeadlineExceeded", "ReplicaSet \"\(newName)\" has timed out progressing.")
            } else if moved || progressing?["reason"] != "ProgressDeadlineExceeded" {
                set("Progressing", "True", "ReplicaSetUpdated", "ReplicaSet \"\(newName)\" is progressing.")
            }
            queue.add(Informer.key(d), after: .seconds(deadline))
        }
        status["conditions"] = .array(conditions.sorted { ($0["type"].string ?? "") < ($1["type"].string ?? "") })
        if complete { try await cleanup(d, sets: sets, newRS: newRS) }
        guard status != before else { return }
        let (namespace, name) = Informer.split(Informer.key(d))
        do throws(StatusError) {
            try await deploymentClient.modify(namespace, name, status: true) { [status] in $0["status"] = status }
        } catch {
            if error.code != 404 { throw error }
        }
    }

    // MARK: helpers

    static func key(_ o: JSON) -> String { Informer.key(o) }

    static func revision(_ rs: JSON) -> Int64 { rs["metadata"]["annotations"][revisionAnnotation].string.flatMap { Int64($0) } ?? 0 }

    /// A set's template is the Deployment's when they are equal but for the pod-template-hash label.
    static func templateMatches(_ rsTemplate: JSON, _ template: JSON) -> Bool {
        var a = rsTemplate, b = template
        a["metadata"]["labels"][hashLabel] = nil
        b["metadata"]["labels"][hashLabel] = nil
        for t in [0, 1] {
            var x = t == 0 ? a : b
            if x["metadata"]["labels"].object?.isEmpty == true { x["metadata"]["labels"] = nil }
            if x["metadata"].object?.isEmpty == true { x["metadata"] = nil }
            if t == 0 { a = x } else { b = x }
        }
        return a == b
    }

    /// FNV-32a of the template (and the collision count), spelled in upstream's safe alphabet.
    static func templateHash(_ template: JSON, collisionCount: Int64) -> String {
        var bytes = template.serialized()
        if collisionCount > 0 { bytes += Array(String(collisionCount).utf8) }
        let hash = FNV1a.hash32(bytes)
        // As upstream's SafeEncodeString: each decimal digit mapped into the alphabet.
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        let out = String(String(hash).utf8.map { alphabet[Int($0) % alphabet.count] })
        return out
    }
}
