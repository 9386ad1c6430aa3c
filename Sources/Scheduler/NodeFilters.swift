import APIMachinery

/// The filter plugins of upstream's scheduler, each answering why a node does not fit (in the
/// words its FailedScheduling message uses), or nil when it does.
public enum NodeFilters {
    /// Upstream runs the filters in its plugin order and stops at the first that fails a node,
    /// so each node contributes one plugin's reasons to the message.
    static func reasons(_ pod: JSON, _ requests: PodRequests, _ info: NodeInfo) -> [String] {
        let node = info.node
        // NodeUnschedulable
        if node["spec"]["unschedulable"].bool == true,
           !Taints.podTolerates(pod, ["key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"]) {
            return ["node(s) were unschedulable"]
        }
        // TaintToleration
        if let taint = (node["spec"]["taints"].array ?? []).first(where: { t in
            (t["effect"].string == "NoSchedule" || t["effect"].string == "NoExecute") && !Taints.podTolerates(pod, t)
        }) {
            return ["node(s) had untolerated taint {\(taint["key"].string ?? ""): \(taint["value"].string ?? "")}"]
        }
        // NodeAffinity
        if !NodeAffinity.matches(pod, node) { return ["node(s) didn't match Pod's node affinity/selector"] }
        // NodePorts
        if !requests.hostPorts.isDisjoint(with: info.requested.hostPorts) {
            return ["node(s) didn't have free ports for the requested pod ports"]
        }
        // NodeResourcesFit: every resource short, together.
        var reasons: [String] = []
        if Int64(info.pods.count) + 1 > info.allocatablePods { reasons.append("Too many pods") }
        if requests.milliCPU > 0, info.requested.milliCPU.addingSaturated(requests.milliCPU) > info.allocatableMilliCPU { reasons.append("Insufficient cpu") }
        if requests.memory > 0, info.requested.memory.addingSaturated(requests.memory) > info.allocatableMemory { reasons.append("Insufficient memory") }
        return reasons
    }

    /// Reasons preemption could fix (resources); the rest make it "not helpful".
    static let resourceReasons: Set<String> = ["Too many pods", "Insufficient cpu", "Insufficient memory"]
}
