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
           !tolerates(pod, ["key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"]) {
            return ["node(s) were unschedulable"]
        }
        // TaintToleration
        if let taint = (node["spec"]["taints"].array ?? []).first(where: { t in
            (t["effect"].string == "NoSchedule" || t["effect"].string == "NoExecute") && !tolerates(pod, t)
        }) {
            return ["node(s) had untolerated taint {\(taint["key"].string ?? ""): \(taint["value"].string ?? "")}"]
        }
        // NodeAffinity
        if !matchesSelectorAndAffinity(pod, node) { return ["node(s) didn't match Pod's node affinity/selector"] }
        // NodePorts
        if !requests.hostPorts.isDisjoint(with: info.requested.hostPorts) {
            return ["node(s) didn't have free ports for the requested pod ports"]
        }
        // NodeResourcesFit: every resource short, together.
        var reasons: [String] = []
        if Int64(info.pods.count) + 1 > info.allocatablePods { reasons.append("Too many pods") }
        if requests.milliCPU > 0, info.requested.milliCPU + requests.milliCPU > info.allocatableMilliCPU { reasons.append("Insufficient cpu") }
        if requests.memory > 0, info.requested.memory + requests.memory > info.allocatableMemory { reasons.append("Insufficient memory") }
        return reasons
    }

    /// Reasons preemption could fix (resources); the rest make it "not helpful".
    static let resourceReasons: Set<String> = ["Too many pods", "Insufficient cpu", "Insufficient memory"]

    public static func tolerates(_ pod: JSON, _ taint: JSON) -> Bool {
        (pod["spec"]["tolerations"].array ?? []).contains { t in
            let effect = t["effect"].string ?? ""
            guard effect.isEmpty || effect == taint["effect"].string else { return false }
            let key = t["key"].string ?? ""
            if key.isEmpty { return t["operator"].string == "Exists" }
            guard key == taint["key"].string else { return false }
            return t["operator"].string == "Exists" || (t["value"].string ?? "") == (taint["value"].string ?? "")
        }
    }

    public static func matchesSelectorAndAffinity(_ pod: JSON, _ node: JSON) -> Bool {
        let selector = pod["spec"]["nodeSelector"].stringMap
        let terms = pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"].array ?? []
        // Most pods ask for neither: no need to read the node's labels.
        if selector.isEmpty && terms.isEmpty { return true }
        let labels = node["metadata"]["labels"].stringMap
        for (k, v) in selector where labels[k] != v { return false }
        guard !terms.isEmpty else { return true }
        // Terms are ORed; the expressions of a term ANDed.
        return terms.contains { term in
            let expressions = term["matchExpressions"].array ?? []
            let fields = term["matchFields"].array ?? []
            guard !expressions.isEmpty || !fields.isEmpty else { return false }
            return expressions.allSatisfy { matches($0, labels) }
                && fields.allSatisfy { matches($0, ["metadata.name": node["metadata"]["name"].string ?? ""]) }
        }
    }

    static func matches(_ requirement: JSON, _ labels: [String: String]) -> Bool {
        let key = requirement["key"].string ?? ""
        let values = (requirement["values"].array ?? []).compactMap(\.string)
        let value = labels[key]
        switch requirement["operator"].string {
        case "In": return value.map(values.contains) ?? false
        case "NotIn": return value.map { !values.contains($0) } ?? true
        case "Exists": return value != nil
        case "DoesNotExist": return value == nil
        case "Gt": return value.flatMap { Int64($0) }.map { v in values.first.flatMap { Int64($0) }.map { v > $0 } ?? false } ?? false
        case "Lt": return value.flatMap { Int64($0) }.map { v in values.first.flatMap { Int64($0) }.map { v < $0 } ?? false } ?? false
        default: return false
        }
    }
}
