import APIMachinery
import Client
import Resources
import Foundation

/// Empties a terminating namespace and then lets it go, as upstream's namespace controller does
/// for the `kubernetes` finalizer: every namespaced resource is deleted as `kubectl delete --all`
/// would (pods get their grace period, owners their dependents' propagation), the namespace's
/// conditions say what remains, and once nothing does the finalizer is removed.
public struct NamespaceController: Controller {
    public let name = "namespace"
    public let queue = WorkQueue()
    let client: Client
    let namespaces: Informer
    let pods: Informer

    static let finalizer = JSON.string("kubernetes")
    static let deletionGracePeriod = Duration.seconds(5)

    public init(client: Client, informers: InformerFactory) {
        self.client = client
        namespaces = informers.informer("", "v1", "namespaces")
        pods = informers.pods
    }

    public func register() async {
        let queue = queue, namespaces = namespaces
        await namespaces.addHandler { event in
            if case .deleted = event { return }
            queue.add(Informer.key(event.object))
        }
        // Pods are what usually remains (they stop within their grace period): look again as each goes.
        await pods.addHandler { event in
            guard case .deleted(let pod) = event, let ns = pod["metadata"]["namespace"].string else { return }
            Task { if await namespaces.get(ns)?["metadata"]["deletionTimestamp"].isNull == false { queue.add(ns) } }
        }
        await namespaces.waitForSync()
        await pods.waitForSync()
    }

    /// Content is still there: the key is retried with backoff.
    struct ContentRemaining: Error {}

    public func reconcile(_ key: String) async throws {
        guard let ns = await namespaces.get(key), let deleted = ns["metadata"]["deletionTimestamp"].string.flatMap(APITime.parse),
              (ns["spec"]["finalizers"].array ?? []).contains(Self.finalizer) else { return }
        // Upstream waits five seconds before emptying a namespace (namespaceDeletionGracePeriod),
        // so what a client deletes right after it (`kubectl delete -f` of a bundle with its
        // namespace) is still there to be deleted.
        let wait = deleted.addingTimeInterval(Double(Self.deletionGracePeriod.components.seconds)).timeIntervalSinceNow
        if wait > 0 {
            queue.add(key, after: .milliseconds(Int64(wait * 1000) + 10))
            return
        }
        var remaining: [String] = [], finalizers: [String: Int] = [:]
        var failure: String?
        // A resource stored as another (events.k8s.io's events) is emptied with that one.
        for def in client.definitions where def.namespaced && def.verbs.contains("deletecollection") && def.storedAs == nil {
            let resource = client.resource(def.group, def.version, def.plural)
            do throws(StatusError) {
                try await resource.deleteCollection(key)
                let left = try await resource.list(key).items
                if !left.isEmpty { remaining.append("\(def.plural).\(def.group) has \(left.count) resource instances") }
                for object in left {
                    for f in object["metadata"]["finalizers"].array ?? [] { finalizers[f.string ?? "", default: 0] += 1 }
                }
            } catch {
                if error.code != 404 { failure = failure ?? "Failed to delete all resource types, 1 remaining: \(error.message)" }
            }
        }
        try await setConditions(key, remaining: remaining.sorted(), finalizers: finalizers, failure: failure)
        guard remaining.isEmpty, failure == nil else { throw ContentRemaining() }
        do throws(StatusError) {
            try await client.resource("", "v1", "namespaces").modify(nil, key) { ns in
                ns["spec"]["finalizers"] = .array((ns["spec"]["finalizers"].array ?? []).filter { $0 != Self.finalizer })
            }
        } catch {
            if error.code != 404 { throw error }
        }
    }

    /// Upstream's deletion conditions, so `kubectl describe namespace` says why one is still Terminating.
    func setConditions(_ key: String, remaining: [String], finalizers: [String: Int], failure: String?) async throws {
        let held = finalizers.keys.sorted().map { "\($0) in \(finalizers[$0]!) resource instances" }
        let wanted: [(String, Bool, String, String)] = [
            ("NamespaceDeletionDiscoveryFailure", false, "ResourcesDiscovered", "All resources successfully discovered"),
            ("NamespaceDeletionGroupVersionParsingFailure", false, "ParsedGroupVersions", "All legacy kube types successfully parsed"),
            failure.map { ("NamespaceDeletionContentFailure", true, "ContentDeletionFailed", $0) }
                ?? ("NamespaceDeletionContentFailure", false, "ContentDeleted", "All content successfully deleted, may be waiting on finalization"),
            remaining.isEmpty ? ("NamespaceContentRemaining", false, "ContentRemoved", "All content successfully removed")
                : ("NamespaceContentRemaining", true, "SomeResourcesRemain", "Some resources are remaining: \(remaining.joined(separator: ", "))"),
            held.isEmpty ? ("NamespaceFinalizersRemaining", false, "ContentHasNoFinalizers", "All content-preserving finalizers finished")
                : ("NamespaceFinalizersRemaining", true, "SomeFinalizersRemain",
                   "Some content in the namespace has finalizers remaining: \(held.joined(separator: ", "))"),
        ]
        let now = JSON.string(APITime.format(Date()))
        do throws(StatusError) {
            try await client.resource("", "v1", "namespaces").modify(nil, key, status: true) { ns in
                let before = ns["status"]["conditions"].array ?? []
                ns["status"]["conditions"] = .array(wanted.map { type, on, reason, message in
                    Conditions.keepingTransitionTime(["type": .string(type), "status": .string(on ? "True" : "False"), "reason": .string(reason),
                                                      "message": .string(message), "lastTransitionTime": now], from: before)
                })
            }
        } catch {
            if error.code != 404 { throw error }
        }
    }
}
