import Foundation
import Synchronization

/// A queue of keys to reconcile, as client-go's rate-limited work queue: a key waiting is not
/// queued twice, a key being worked on is not handed to a second worker (it is queued again when
/// the first is done), and failures retry with per-key exponential backoff (5 ms doubling, up to
/// 1000 s) until forgotten.
public final class WorkQueue: Sendable {
    struct State {
        var queue: [String] = []
        var head = 0
        var dirty: Set<String> = []
        var processing: Set<String> = []
        var failures: [String: Int] = [:]
        var waiters: [CheckedContinuation<String?, Never>] = []
        var shuttingDown = false
    }

    let state = Mutex(State())

    public init() {}

    public func add(_ key: String) {
        let waiter: CheckedContinuation<String?, Never>? = state.withLock { s in
            guard !s.shuttingDown, !s.dirty.contains(key) else { return nil }
            s.dirty.insert(key)
            if s.processing.contains(key) { return nil }
            if !s.waiters.isEmpty {
                s.dirty.remove(key)
                s.processing.insert(key)
                return s.waiters.removeFirst()
            }
            s.queue.append(key)
            return nil
        }
        waiter?.resume(returning: key)
    }

    public func add(_ key: String, after delay: Duration) {
        Task {
            try? await Task.sleep(for: delay)
            add(key)
        }
    }

    /// Queues the key again after its backoff, which doubles with each failure.
    public func addRateLimited(_ key: String) {
        let failures = state.withLock { s in
            s.failures[key, default: 0] += 1
            return s.failures[key]!
        }
        let ms = min(5.0 * pow(2, Double(failures - 1)), 1_000_000)
        add(key, after: .milliseconds(Int64(ms)))
    }

    public func forget(_ key: String) { state.withLock { _ = $0.failures.removeValue(forKey: key) } }

    /// The next key, waiting for one; nil once shut down.
    public func get() async -> String? {
        await withCheckedContinuation { (c: CheckedContinuation<String?, Never>) in
            let ready: String?? = state.withLock { s in
                if s.head < s.queue.count {
                    let key = s.queue[s.head]
                    s.head += 1
                    if s.head > 1024, s.head * 2 > s.queue.count {
                        s.queue.removeFirst(s.head)
                        s.head = 0
                    }
                    s.dirty.remove(key)
                    s.processing.insert(key)
                    return .some(key)
                }
                if s.shuttingDown { return .some(nil) }
                s.waiters.append(c)
                return .none
            }
            if let ready { c.resume(returning: ready) }
        }
    }

    /// The worker is finished with the key; if it changed meanwhile, it is queued again.
    public func done(_ key: String) {
        let again = state.withLock { s in
            s.processing.remove(key)
            if s.dirty.contains(key) { s.dirty.remove(key); return true }
            return false
        }
        if again { add(key) }
    }

    public func shutDown() {
        let waiters = state.withLock { s in
            s.shuttingDown = true
            defer { s.waiters = [] }
            return s.waiters
        }
        for w in waiters { w.resume(returning: nil) }
    }

    public var count: Int { state.withLock { $0.queue.count - $0.head } }
}
