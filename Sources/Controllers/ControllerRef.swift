import APIMachinery
import Client
import Foundation
import Synchronization

/// Owner references as controllers use them: the one controlling owner, and new references that
/// make an object a controlled dependent (blocking its owner's foreground deletion).
enum ControllerRef {
    static func controller(of object: JSON) -> JSON? {
        object["metadata"]["ownerReferences"].array?.first { $0["controller"].bool == true }
    }

    static func isControlled(_ object: JSON, by owner: JSON) -> Bool {
        controller(of: object)?["uid"].string == owner["metadata"]["uid"].string
    }

    static func reference(to owner: JSON) -> JSON {
        ["apiVersion": owner["apiVersion"], "kind": owner["kind"], "name": owner["metadata"]["name"],
         "uid": owner["metadata"]["uid"], "controller": true, "blockOwnerDeletion": true]
    }

    /// A pod made from an owner's template: its labels, annotations and finalizers, its spec, and
    /// the owner as controlling reference, as every workload controller makes them.
    static func pod(from template: JSON, owner: JSON, name: String) -> JSON {
        var pod: JSON = ["apiVersion": "v1", "kind": "Pod",
                         "metadata": ["name": .string(name), "namespace": owner["metadata"]["namespace"],
                                      "ownerReferences": [reference(to: owner)]],
                         "spec": template["spec"]]
        for field in ["labels", "annotations", "finalizers"] where !template["metadata"][field].isNull {
            pod["metadata"][field] = template["metadata"][field]
        }
        return pod
    }

    /// The pods informer's handler for a controller of `kind`: each event about a pod it controls
    /// settles the owner's expectations (a pod marked for deletion counts as deleted) and queues
    /// the owner.
    static func queueOwner(kind: String, _ queue: WorkQueue, _ expectations: Expectations) -> Informer.Handler {
        { event in
            let pod = event.object
            guard let owner = controller(of: pod), owner["kind"].string == kind, let ownerName = owner["name"].string,
                  let ns = pod["metadata"]["namespace"].string else { return }
            let ownerKey = "\(ns)/\(ownerName)", podKey = Informer.key(pod)
            switch event {
            case .added: expectations.observedAdd(ownerKey, podKey)
            case .deleted: expectations.observedDelete(ownerKey, podKey)
            case .updated(_, let new): if !new["metadata"]["deletionTimestamp"].isNull { expectations.observedDelete(ownerKey, podKey) }
            }
            queue.add(ownerKey)
        }
    }

    /// `web-7d4b9c6f5d-` + five of upstream's generateName characters.
    static func generatedName(_ prefix: String) -> String {
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        return prefix + String((0..<5).map { _ in alphabet.randomElement()! })
    }

    static func isActive(_ pod: JSON) -> Bool {
        let phase = pod["status"]["phase"].string
        return phase != "Succeeded" && phase != "Failed" && pod["metadata"]["deletionTimestamp"].isNull
    }

    static func isReady(_ pod: JSON) -> Bool {
        pod["status"]["conditions"].array?.contains { $0["type"] == "Ready" && $0["status"] == "True" } ?? false
    }

    /// Ready for at least minReadySeconds (measured from the Ready condition's transition).
    static func isAvailable(_ pod: JSON, minReadySeconds: Int64, now: Date = Date()) -> Bool {
        guard isReady(pod) else { return false }
        guard minReadySeconds > 0 else { return true }
        let since = pod["status"]["conditions"].array?.first { $0["type"] == "Ready" }?["lastTransitionTime"].string.flatMap(APITime.parse)
        return since.map { now.timeIntervalSince($0) >= Double(minReadySeconds) } ?? false
    }
}

/// What a controller has asked for and not yet seen in its informer (client-go's expectations):
/// until the pods it created appear and the ones it deleted go, it does not act on the same
/// owner again, so a slow informer never makes it create twice. Expectations lapse after five
/// minutes, as upstream's do.
final class Expectations: Sendable {
    struct Pending {
        var adds: Set<String> = []
        var deletes: Set<String> = []
        var since = Date()
    }

    let state = Mutex<[String: Pending]>([:])

    func expect(_ owner: String, adds: [String] = [], deletes: [String] = []) {
        state.withLock { s in
            var p = s[owner] ?? Pending()
            p.adds.formUnion(adds)
            p.deletes.formUnion(deletes)
            p.since = Date()
            s[owner] = p
        }
    }

    func observedAdd(_ owner: String, _ key: String) { state.withLock { _ = $0[owner]?.adds.remove(key) } }
    func observedDelete(_ owner: String, _ key: String) {
        state.withLock { s in
            s[owner]?.deletes.remove(key)
            s[owner]?.adds.remove(key)
        }
    }

    /// A creation that failed will never be seen.
    func lower(_ owner: String, add key: String) { observedAdd(owner, key) }

    func satisfied(_ owner: String) -> Bool {
        state.withLock { s in
            guard let p = s[owner] else { return true }
            if (p.adds.isEmpty && p.deletes.isEmpty) || Date().timeIntervalSince(p.since) > 300 {
                s[owner] = nil
                return true
            }
            return false
        }
    }

    func forget(_ owner: String) { _ = state.withLock { $0.removeValue(forKey: owner) } }
}
