import APIMachinery
import Client
import Foundation

/// Runs StatefulSets as upstream's controller: pods with stable names (`web-0`, `web-1`, ...)
/// and hostnames under the governing service, one PersistentVolumeClaim per volumeClaimTemplate
/// and ordinal, created in order with each waiting for the one before to be Running and Ready
/// (OrderedReady) or all at once (Parallel), removed from the highest ordinal down; template
/// revisions kept as ControllerRevisions, and RollingUpdate replacing pods from the highest
/// ordinal down to the partition.
public struct StatefulSetController: Controller {
    public let name = "statefulset"
    public let queue = WorkQueue()
    let client: Client
    let sets: Informer
    let pods: Informer
    let history: ControllerHistory
    let expectations = Expectations()
    let events: EventRecorder

    static let revisionLabel = "controller-revision-hash"

    public init(client: Client, informers: InformerFactory) {
        self.client = client
        sets = informers.informer("apps", "v1", "statefulsets")
        pods = informers.pods
        history = ControllerHistory(client: client, revisions: informers.informer("apps", "v1", "controllerrevisions"))
        events = EventRecorder(client: client, component: "statefulset-controller")
    }

    var setClient: ResourceClient { client.resource("apps", "v1", "statefulsets") }

    public func register() async {
        let queue = queue, expectations = expectations
        await sets.addHandler { event in queue.add(Informer.key(event.object)) }
        await pods.addHandler(ControllerRef.queueOwner(kind: "StatefulSet", owners: sets, queue, expectations))
        await sets.waitForSync()
        await pods.waitForSync()
        await history.revisions.waitForSync()
    }

    static func ordinal(_ pod: JSON, set: String) -> Int? {
        guard let name = pod["metadata"]["name"].string, name.hasPrefix(set + "-") else { return nil }
        return Int(name.dropFirst(set.count + 1))
    }

    static func runningAndReady(_ pod: JSON) -> Bool {
        pod["status"]["phase"] == "Running" && ControllerRef.isReady(pod) && pod["metadata"]["deletionTimestamp"].isNull
    }

    public func reconcile(_ key: String) async throws {
        guard let set = await sets.get(key), set["metadata"]["deletionTimestamp"].isNull else {
            expectations.forget(key)
            return
        }
        let setName = Informer.split(key).name
        let owned = try await ControllerClaims.pods(of: set, pods, client)
        var byOrdinal: [Int: JSON] = [:]
        for pod in owned { if let i = Self.ordinal(pod, set: setName) { byOrdinal[i] = pod } }
        let replicas = Int(set["spec"]["replicas"].int ?? 1)
        let ordered = set["spec"]["podManagementPolicy"].string != "Parallel"
        let hash = DeploymentController.templateHash(set["spec"]["template"], collisionCount: set["status"]["collisionCount"].int ?? 0)
        let updateRevision = try await history.ensure(set, hash: hash)
        let currentRevision = set["status"]["currentRevision"].string ?? updateRevision
        let partition = Int(set["spec"]["updateStrategy"]["rollingUpdate"]["partition"].int ?? 0)

        if expectations.satisfied(key) {
            var acted = false
            // Create or replace missing and failed pods, in order.
            for i in 0..<replicas {
                if let pod = byOrdinal[i] {
                    if pod["status"]["phase"] == "Failed" || pod["status"]["phase"] == "Succeeded" {
                        try await deletePod(pod, set, key: key)
                        acted = true
                        if ordered { break }
                    }
                    if ordered && !Self.runningAndReady(pod) { acted = true; break }
                    continue
                }
                let revision = i < partition ? currentRevision : updateRevision
                try await createPod(set, ordinal: i, revision: revision, key: key)
                acted = true
                if ordered { break }
            }
            // Scale down, highest ordinal first.
            if !acted {
                let extra = byOrdinal.keys.filter { $0 >= replicas }.sorted(by: >)
                let allReady = byOrdinal.values.allSatisfy(Self.runningAndReady)
                for i in extra where byOrdinal[i]!["metadata"]["deletionTimestamp"].isNull {
                    if ordered && !allReady { break }
                    try await deletePod(byOrdinal[i]!, set, key: key)
                    acted = true
                    if ordered { break }
                }
            }
            // Rolling update, highest ordinal first, down to the partition, one pod at a time.
            if !acted, set["spec"]["updateStrategy"]["type"].string != "OnDelete",
               (0..<replicas).allSatisfy({ byOrdinal[$0].map(Self.runningAndReady) ?? false }) {
                for i in (0..<replicas).reversed() where i >= partition {
                    guard let pod = byOrdinal[i], pod["metadata"]["labels"][Self.revisionLabel].string != updateRevision else { continue }
                    try await deletePod(pod, set, key: key)
                    break
                }
            }
        }
        try await updateStatus(set, pods: Array(byOrdinal.values), replicas: replicas,
                               currentRevision: currentRevision, updateRevision: updateRevision)
        let live = Set(byOrdinal.values.compactMap { $0["metadata"]["labels"][Self.revisionLabel].string })
        try await history.truncate(set, live: live.union([currentRevision, updateRevision]))
    }

    func createPod(_ set: JSON, ordinal: Int, revision: String, key: String) async throws {
        let setName = set["metadata"]["name"].string ?? "", namespace = set["metadata"]["namespace"].string ?? ""
        let podName = "\(setName)-\(ordinal)"
        let template = await history.template(set, revision: revision)
        var volumes = template["spec"]["volumes"].array ?? []
        for claim in set["spec"]["volumeClaimTemplates"].array ?? [] {
            guard let claimName = claim["metadata"]["name"].string else { continue }
            let pvcName = "\(claimName)-\(podName)"
            try await ensureClaim(set, claim, name: pvcName, pod: podName)
            volumes.removeAll { $0["name"].string == claimName }
            volumes.append(["name": .string(claimName), "persistentVolumeClaim": ["claimName": .string(pvcName)]])
        }
        var pod = ControllerRef.pod(from: template, owner: set, name: podName)
        pod["metadata"]["labels"][Self.revisionLabel] = .string(revision)
        pod["metadata"]["labels"]["statefulset.kubernetes.io/pod-name"] = .string(podName)
        pod["metadata"]["labels"]["apps.kubernetes.io/pod-index"] = .string(String(ordinal))
        pod["spec"]["hostname"] = .string(podName)
        if let service = set["spec"]["serviceName"].string, !service.isEmpty { pod["spec"]["subdomain"] = .string(service) }
        if !volumes.isEmpty { pod["spec"]["volumes"] = .array(volumes) }
        expectations.expect(key, adds: 1)
        do throws(StatusError) {
            try await client.pods.create(namespace, pod)
            events.normal(set, "SuccessfulCreate", "create Pod \(podName) in StatefulSet \(setName) successful")
        } catch {
            expectations.lower(key, adds: 1)
            if error.code == 409 { return }
            events.warning(set, "FailedCreate", "create Pod \(podName) in StatefulSet \(setName) failed error: \(error.message)")
            throw error
        }
    }

    func ensureClaim(_ set: JSON, _ claim: JSON, name: String, pod: String) async throws {
        let namespace = set["metadata"]["namespace"].string ?? ""
        let pvcs = client.resource("", "v1", "persistentvolumeclaims")
        if (try? await pvcs.get(namespace, name)) != nil { return }
        var pvc: JSON = ["apiVersion": "v1", "kind": "PersistentVolumeClaim",
                         "metadata": ["name": .string(name), "namespace": .string(namespace), "labels": set["spec"]["selector"]["matchLabels"]],
                         "spec": claim["spec"]]
        for (k, v) in claim["metadata"]["labels"].object ?? [:] { pvc["metadata"]["labels"][k] = v }
        if set["spec"]["persistentVolumeClaimRetentionPolicy"]["whenDeleted"] == "Delete" {
            pvc["metadata"]["ownerReferences"] = [["apiVersion": "apps/v1", "kind": "StatefulSet", "name": set["metadata"]["name"],
                                                   "uid": set["metadata"]["uid"], "controller": true, "blockOwnerDeletion": true]]
        }
        do throws(StatusError) {
            try await pvcs.create(namespace, pvc)
            events.normal(set, "SuccessfulCreate", "create Claim \(name) Pod \(pod) in StatefulSet \(set["metadata"]["name"].string ?? "") success")
        } catch {
            if error.code != 409 { throw error }
        }
    }

    func deletePod(_ pod: JSON, _ set: JSON, key: String) async throws {
        let (ns, name) = Informer.split(Informer.key(pod))
        expectations.expect(key, deletes: [Informer.key(pod)])
        do throws(StatusError) {
            try await client.pods.delete(ns, name)
            events.normal(set, "SuccessfulDelete", "delete Pod \(name) in StatefulSet \(set["metadata"]["name"].string ?? "") successful")
        } catch {
            expectations.observedDelete(key, Informer.key(pod))
            if error.code != 404 { throw error }
        }
    }

    func updateStatus(_ set: JSON, pods: [JSON], replicas: Int, currentRevision: String, updateRevision: String) async throws {
        let live = pods.filter { $0["metadata"]["deletionTimestamp"].isNull }
        let ready = live.filter(ControllerRef.isReady).count
        let minReady = set["spec"]["minReadySeconds"].int ?? 0
        let available = live.filter { ControllerRef.isAvailable($0, minReadySeconds: minReady) }.count
        let updated = live.filter { $0["metadata"]["labels"][Self.revisionLabel].string == updateRevision }.count
        var current = currentRevision
        if updated == replicas && ready == replicas && live.count == replicas { current = updateRevision }
        let currentCount = live.filter { $0["metadata"]["labels"][Self.revisionLabel].string == current }.count
        var status = set["status"]
        let before = status
        status["observedGeneration"] = set["metadata"]["generation"]
        status["replicas"] = .int(Int64(live.count))
        status["readyReplicas"] = ready > 0 ? .int(Int64(ready)) : nil
        status["availableReplicas"] = .int(Int64(available))
        status["currentReplicas"] = currentCount > 0 ? .int(Int64(currentCount)) : nil
        status["updatedReplicas"] = updated > 0 ? .int(Int64(updated)) : nil
        status["currentRevision"] = .string(current)
        status["updateRevision"] = .string(updateRevision)
        status["collisionCount"] = .int(set["status"]["collisionCount"].int ?? 0)
        guard status != before else { return }
        let (ns, name) = Informer.split(Informer.key(set))
        do throws(StatusError) {
            try await setClient.modify(ns, name, status: true) { [status] in $0["status"] = status }
        } catch {
            if error.code != 404 { throw error }
        }
    }
}
