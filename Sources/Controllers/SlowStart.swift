import APIMachinery

/// Upstream's slowStartBatch: `count` calls in batches of 1, 2, 4, ..., each batch run
/// concurrently, stopping after a batch in which a call failed. A template the API refuses costs
/// one failed call rather than thousands; a good one soon reaches full parallelism.
enum SlowStart {
    /// How many pods one sync creates or deletes at most (upstream's burstReplicas).
    static let burst = 500

    /// Returns how many calls succeeded and the first failure, if any; calls after the failing
    /// batch are never made.
    static func run(_ count: Int, _ call: @escaping @Sendable (Int) async throws(StatusError) -> Void) async -> (successes: Int, error: StatusError?) {
        var successes = 0, next = 0, batch = 1
        while next < count {
            let range = next..<min(next + batch, count)
            let failures = await withTaskGroup(of: StatusError?.self) { group in
                for i in range {
                    group.addTask {
                        do throws(StatusError) { try await call(i) } catch { return error }
                        return nil
                    }
                }
                var failures: [StatusError] = []
                for await failure in group { if let failure { failures.append(failure) } }
                return failures
            }
            successes += range.count - failures.count
            if let first = failures.first { return (successes, first) }
            next = range.upperBound
            batch *= 2
        }
        return (successes, nil)
    }

    /// Every call at once (upstream deletes this way), returning the first failure.
    static func all<T: Sendable>(_ items: [T], _ call: @escaping @Sendable (T) async throws(StatusError) -> Void) async -> StatusError? {
        await withTaskGroup(of: StatusError?.self) { group in
            for item in items {
                group.addTask {
                    do throws(StatusError) { try await call(item) } catch { return error }
                    return nil
                }
            }
            var first: StatusError?
            for await failure in group where first == nil { first = failure }
            return first
        }
    }
}
