/// The newest state of every key, held in memory for reads at the newest revision (SQLite's, and
/// each API server's mirror of etcd), with the keys sorted so prefix ranges and pages are binary
/// searches.
struct CurrentState {
    private var objects: [String: StoredObject] = [:]
    private var keys: [String] = []

    init(_ all: [StoredObject] = []) {
        for o in all { objects[o.key] = o }
        keys = objects.keys.sorted()
    }

    subscript(key: String) -> StoredObject? { objects[key] }

    /// Writes a key's new state (a creation or a modification).
    mutating func put(_ object: StoredObject) {
        if objects.updateValue(object, forKey: object.key) == nil { keys.insert(object.key, at: lowerBound(object.key)) }
    }

    mutating func remove(_ key: String) {
        guard objects.removeValue(forKey: key) != nil else { return }
        let i = lowerBound(key)
        if i < keys.count, keys[i] == key { keys.remove(at: i) }
    }

    private func lowerBound(_ key: String) -> Int {
        var lo = 0, hi = keys.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if keys[mid] < key { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// Keys under `prefix` after `startAfter`, at most `limit` (nil or 0: all), and whether more follow.
    func page(prefix: String, startAfter: String?, limit: Int?) -> (objects: [StoredObject], hasMore: Bool) {
        var i = lowerBound(startAfter.map { max($0 + "\u{0}", prefix) } ?? prefix)
        let cap = limit.map { $0 > 0 ? $0 : Int.max } ?? Int.max
        var out: [StoredObject] = []
        out.reserveCapacity(min(cap, 1024))
        while i < keys.count, keys[i].hasPrefix(prefix) {
            if out.count == cap { return (out, true) }
            out.append(objects[keys[i]]!)
            i += 1
        }
        return (out, false)
    }

    func count(prefix: String, after: String?) -> Int {
        lowerBound(prefix.prefixEnd) - lowerBound(after.map { max($0 + "\u{0}", prefix) } ?? prefix)
    }
}
