import APIMachinery

/// What a pod asks of a node: the sum of its containers' requests (or the largest init
/// container's, if more), its host ports, as upstream's scheduler computes them.
struct PodRequests: Equatable {
    var milliCPU: Int64 = 0
    var memory: Int64 = 0
    var hostPorts: Set<String> = []

    init() {}

    init(_ pod: JSON) {
        let spec = pod["spec"]
        for c in spec["containers"].array ?? [] {
            milliCPU = milliCPU.addingSaturated(Quantity.milli(c["resources"]["requests"]["cpu"]))
            memory = memory.addingSaturated(Quantity.integer(c["resources"]["requests"]["memory"]))
            for p in c["ports"].array ?? [] {
                if let hp = p["hostPort"].int, hp > 0 { hostPorts.insert("\(p["protocol"].string ?? "TCP")/\(hp)") }
            }
        }
        for c in spec["initContainers"].array ?? [] {
            milliCPU = max(milliCPU, Quantity.milli(c["resources"]["requests"]["cpu"]))
            memory = max(memory, Quantity.integer(c["resources"]["requests"]["memory"]))
        }
        for (name, value) in spec["overhead"].object ?? [:] {
            if name == "cpu" { milliCPU = milliCPU.addingSaturated(Quantity.milli(value)) }
            if name == "memory" { memory = memory.addingSaturated(Quantity.integer(value)) }
        }
    }
}

/// A node as the scheduler sees it: what it can hold, what its pods already take.
struct NodeInfo {
    var node: JSON
    var allocatableMilliCPU: Int64
    var allocatableMemory: Int64
    var allocatablePods: Int64
    var requested = PodRequests()
    var pods: [String: PodRequests] = [:]
    /// Pods per owner uid, for spreading replicas.
    var owners: [String: Int] = [:]

    init(_ node: JSON) {
        self.node = node
        let a = node["status"]["allocatable"]
        allocatableMilliCPU = Quantity.milli(a["cpu"])
        allocatableMemory = Quantity.integer(a["memory"])
        allocatablePods = Quantity.integer(a["pods"])
    }

    mutating func add(_ key: String, _ r: PodRequests, owner: String?) {
        guard pods[key] == nil else { return }
        pods[key] = r
        requested.milliCPU = requested.milliCPU.addingSaturated(r.milliCPU)
        requested.memory = requested.memory.addingSaturated(r.memory)
        requested.hostPorts.formUnion(r.hostPorts)
        if let owner { owners[owner, default: 0] += 1 }
    }

    mutating func remove(_ key: String, owner: String?) {
        guard let r = pods.removeValue(forKey: key) else { return }
        requested.milliCPU = requested.milliCPU.subtractingSaturated(r.milliCPU)
        requested.memory = requested.memory.subtractingSaturated(r.memory)
        requested.hostPorts = pods.values.reduce(into: Set()) { $0.formUnion($1.hostPorts) }
        if let owner { owners[owner, default: 1] -= 1 }
    }
}
