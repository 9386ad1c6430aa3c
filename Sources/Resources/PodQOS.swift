import APIMachinery

/// A pod's quality-of-service class, as upstream's GetPodQOS decides it from the cpu and memory
/// of its containers: BestEffort with no requests or limits at all, Guaranteed when every
/// container limits both and asks for exactly its limits, Burstable otherwise.
public enum PodQOS {
    public static func qosClass(_ spec: JSON) -> String {
        var requests: [String: Double] = [:], limits: [String: Double] = [:]
        var guaranteed = true
        for c in (spec["containers"].array ?? []) + (spec["initContainers"].array ?? []) {
            let resources = c["resources"]
            for name in ["cpu", "memory"] {
                let limit = Quantity.value(resources["limits"][name])
                // An unset request is the limit (API defaulting copies it).
                let request = resources["requests"][name].isNull ? limit : Quantity.value(resources["requests"][name])
                if request > 0 { requests[name, default: 0] += request }
                if limit > 0 { limits[name, default: 0] += limit } else { guaranteed = false }
            }
        }
        if requests.isEmpty && limits.isEmpty { return "BestEffort" }
        return guaranteed && requests == limits ? "Guaranteed" : "Burstable"
    }
}
