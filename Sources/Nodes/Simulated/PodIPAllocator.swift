import Synchronization

/// Pod IPs from each node's /24 of the pod CIDR (10.244.N.0/24), .2 to .254, the way a node's
/// CNI IPAM hands them out; released when the pod goes.
final class PodIPAllocator: Sendable {
    struct State {
        var used: [Int: Set<Int>] = [:]
        var byPod: [String: (node: Int, host: Int)] = [:]
    }

    let state = Mutex(State())

    static func cidr(node index: Int) -> String { "10.244.\(index).0/24" }

    func allocate(_ pod: String, node index: Int) -> String? {
        state.withLock { s in
            if let held = s.byPod[pod], held.node == index { return "10.244.\(index).\(held.host)" }
            guard let host = (2...254).first(where: { !(s.used[index]?.contains($0) ?? false) }) else { return nil }
            s.used[index, default: []].insert(host)
            s.byPod[pod] = (index, host)
            return "10.244.\(index).\(host)"
        }
    }

    /// Marks an address already in use (found on a pod at start).
    func restore(_ pod: String, ip: String) {
        let parts = ip.split(separator: ".").compactMap { Int($0) }
        guard parts.count == 4, parts[0] == 10, parts[1] == 244 else { return }
        state.withLock { s in
            s.used[parts[2], default: []].insert(parts[3])
            s.byPod[pod] = (parts[2], parts[3])
        }
    }

    func release(_ pod: String) {
        state.withLock { s in
            if let held = s.byPod.removeValue(forKey: pod) { s.used[held.node]?.remove(held.host) }
        }
    }
}

/// A set of keys shared by a node agent's workers.
final class KeySet: Sendable {
    let keys = Mutex<Set<String>>([])

    func contains(_ key: String) -> Bool { keys.withLock { $0.contains(key) } }
    func insert(_ key: String) { _ = keys.withLock { $0.insert(key) } }
    func remove(_ key: String) { _ = keys.withLock { $0.remove(key) } }
}
