import APIMachinery
import Synchronization

/// Upstream's max-in-flight filter: beyond the cap, a request is refused at once with 429 and
/// `Retry-After: 1` (clients wait and retry) rather than queued, so an overloaded server sheds
/// load instead of hanging. Long-running requests (watches, logs, exec, attach, port-forward,
/// proxy) and system:masters are not counted, as upstream exempts them; neither are the health
/// checks, answered before authentication.
final class InFlightLimit: Sendable {
    private let reads = Atomic<Int>(0)
    private let writes = Atomic<Int>(0)
    let limits: ServingLimits

    init(_ limits: ServingLimits) { self.limits = limits }

    static let longRunningSubresources: Set<String> = ["attach", "exec", "log", "portforward", "proxy"]

    static func isLongRunning(_ path: ResourcePath?, watch: Bool) -> Bool {
        watch || path?.subresource.map(longRunningSubresources.contains) == true || path?.resource == "proxy"
    }

    /// Runs `body` in a slot of its kind, or refuses when none is free.
    func withSlot<T>(mutating: Bool, _ body: () async throws(StatusError) -> T) async throws(StatusError) -> T {
        let cap = mutating ? limits.maxMutatingRequestsInFlight : limits.maxRequestsInFlight
        guard cap > 0 else { return try await body() }
        guard mutating ? Self.take(writes, cap) : Self.take(reads, cap) else { throw Self.refusal }
        defer {
            if mutating { writes.wrappingSubtract(1, ordering: .relaxed) } else { reads.wrappingSubtract(1, ordering: .relaxed) }
        }
        return try await body()
    }

    private static func take(_ counter: borrowing Atomic<Int>, _ cap: Int) -> Bool {
        if counter.wrappingAdd(1, ordering: .relaxed).newValue <= cap { return true }
        counter.wrappingSubtract(1, ordering: .relaxed)
        return false
    }

    static let refusal = StatusError(code: 429, reason: "TooManyRequests", message: "Too many requests, please try again later.",
                                     details: ["retryAfterSeconds": 1])
}
