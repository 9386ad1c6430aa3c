import Foundation

/// Upstream's flowcontrol back-off: per key, a delay that starts at `initial`, doubles with each
/// use up to `maximum`, and starts over once the key has been quiet for twice the maximum (a
/// container that ran ten minutes without crashing starts its crash-loop back-off afresh).
struct Backoff: Sendable {
    let initial: Double
    let maximum: Double
    var entries: [String: (delay: Double, updated: Date)] = [:]

    init(initial: Double = 10, maximum: Double = 300) {
        self.initial = initial
        self.maximum = maximum
    }

    /// The current delay of the key (0 if it has none).
    func delay(_ key: String, now: Date = Date()) -> Double {
        guard let e = entries[key], now.timeIntervalSince(e.updated) <= 2 * maximum else { return 0 }
        return e.delay
    }

    /// Whether `since` (the failure) is less than the key's delay ago.
    func isBackingOff(_ key: String, since: Date, now: Date = Date()) -> Bool {
        let d = delay(key, now: now)
        return d > 0 && now.timeIntervalSince(since) < d
    }

    /// Counts one more failure: the delay doubles (or starts at `initial`).
    mutating func next(_ key: String, now: Date = Date()) {
        let d = delay(key, now: now)
        entries[key] = (d == 0 ? initial : min(d * 2, maximum), now)
        if entries.count > 4096 { entries = entries.filter { now.timeIntervalSince($0.value.updated) <= 2 * maximum } }
    }

    mutating func reset(_ key: String) { entries[key] = nil }
}
