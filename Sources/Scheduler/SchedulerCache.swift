import APIMachinery
import Client
import Synchronization

/// The scheduler's view of the cluster: every node with the requests of the pods bound to it,
/// kept from the informers' events (in order, under a lock) plus the bindings it has just made
/// and the informer has not shown yet, as upstream's scheduler cache "assumes" them.
final class SchedulerCache: Sendable {
    struct State {
        var nodes: [String: NodeInfo] = [:]
        /// Where each pod counted on a node is, so a pod moving to Succeeded or going away is
        /// taken off the right node.
        var placed: [String: (node: String, owner: String?)] = [:]
        var unschedulable: Set<String> = []
        /// Pods placed by a binding still being written: the informer shows them unbound.
        var assumed: Set<String> = []
    }

    let state = Mutex(State())

    static func owner(_ pod: JSON) -> String? { Informer.controllerUID(pod) }

    static func occupiesNode(_ pod: JSON) -> Bool {
        let phase = pod["status"]["phase"].string
        return !(pod["spec"]["nodeName"].string ?? "").isEmpty && phase != "Succeeded" && phase != "Failed"
    }

    func nodeChanged(_ node: JSON) -> Bool {
        state.withLock { s in
            let name = node["metadata"]["name"].string ?? ""
            var info = NodeInfo(node)
            if let old = s.nodes[name] {
                info.requested = old.requested
                info.pods = old.pods
                info.owners = old.owners
            }
            s.nodes[name] = info
            return !s.unschedulable.isEmpty
        }
    }

    func nodeDeleted(_ node: JSON) {
        _ = state.withLock { $0.nodes.removeValue(forKey: node["metadata"]["name"].string ?? "") }
    }

    /// Records where the pod is; true when resources were freed (unschedulable pods may fit now).
    /// An assumed pod keeps its place until the pod shows a node or goes.
    @discardableResult
    func podChanged(_ key: String, _ pod: JSON?) -> Bool {
        state.withLock { s in
            if s.assumed.contains(key) {
                guard pod == nil || !(pod?["spec"]["nodeName"].string ?? "").isEmpty else { return false }
                s.assumed.remove(key)
            }
            let wanted: (node: String, owner: String?)? = pod.flatMap { Self.occupiesNode($0) ? ($0["spec"]["nodeName"].string!, Self.owner($0)) : nil }
            var freed = false
            if let current = s.placed[key], current.node != wanted?.node {
                s.nodes[current.node]?.remove(key, owner: current.owner)
                s.placed[key] = nil
                freed = true
            }
            if let wanted, let pod, s.placed[key] == nil {
                s.nodes[wanted.node]?.add(key, PodRequests(pod), owner: wanted.owner)
                s.placed[key] = wanted
            }
            if pod == nil || !(pod?["spec"]["nodeName"].string ?? "").isEmpty { s.unschedulable.remove(key) }
            return freed && !s.unschedulable.isEmpty
        }
    }

    /// Counts the pod on the node before its binding is written.
    func assume(_ key: String, _ pod: JSON, on node: String) {
        var placed = pod
        placed["spec"]["nodeName"] = .string(node)
        podChanged(key, placed)
        _ = state.withLock { $0.assumed.insert(key) }
    }

    func isAssumed(_ key: String) -> Bool { state.withLock { $0.assumed.contains(key) } }

    /// A binding that failed: the pod's place is given back.
    func forget(_ key: String) {
        state.withLock { s in
            guard s.assumed.remove(key) != nil, let current = s.placed.removeValue(forKey: key) else { return }
            s.nodes[current.node]?.remove(key, owner: current.owner)
        }
    }

    func markUnschedulable(_ key: String) { _ = state.withLock { $0.unschedulable.insert(key) } }

    func takeUnschedulable() -> Set<String> {
        state.withLock { s in
            defer { s.unschedulable = [] }
            return s.unschedulable
        }
    }

    func snapshot() -> [NodeInfo] {
        state.withLock { s in s.nodes.keys.sorted().compactMap { s.nodes[$0] } }
    }
}
