/// Whether a pod may run on a node by its nodeSelector and required node affinity, as upstream's
/// NodeAffinity plugin decides it; shared by the scheduler and the DaemonSet controller.
public enum NodeAffinity {
    public static func matches(_ pod: JSON, _ node: JSON) -> Bool {
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

    /// One node selector requirement against a node's labels (or fields).
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
