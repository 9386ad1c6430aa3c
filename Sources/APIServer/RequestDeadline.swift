import APIMachinery
import Synchronization

/// Upstream's deadline for requests that are not long-running: `--request-timeout` (60 s), or
/// less when `?timeout=` asks. Past it the client gets 504 at once, whatever the request was
/// waiting for; the work is cancelled (a write may still have happened, as upstream warns).
enum RequestDeadline {
    static let timedOut = StatusError(code: 504, reason: "Timeout",
                                      message: "Timeout: request did not complete within requested timeout - context deadline exceeded",
                                      details: .emptyObject)

    /// The request's deadline: `?timeout=` when it is shorter than the server's own.
    static func timeout(_ query: Query, limit: Duration) throws(StatusError) -> Duration {
        guard let asked = query["timeout"] else { return limit }
        guard let duration = GoDuration.parse(asked) else { throw .badRequest("invalid timeout specified in the request URL") }
        return duration > .zero && duration < limit ? duration : limit
    }

    /// `body`'s answer, or 504 once `timeout` has passed.
    static func run<T: Sendable>(within timeout: Duration, _ body: @escaping @Sendable () async throws(StatusError) -> T) async throws(StatusError) -> T {
        let race = Race<T>()
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, StatusError>, Never>) in
                race.begin(continuation,
                           work: Task {
                               let result: Result<T, StatusError>
                               do throws(StatusError) { result = .success(try await body()) } catch { result = .failure(error) }
                               race.finish(result)
                           },
                           timer: Task {
                               try? await Task.sleep(for: timeout)
                               if !Task.isCancelled { race.finish(.failure(timedOut)) }
                           })
            }
        } onCancel: {
            // The client is gone: whatever is answered goes nowhere.
            race.finish(.failure(timedOut))
        }
        return try result.get()
    }

    /// The first of the work and the timer to finish answers; the other is cancelled.
    final class Race<T: Sendable>: Sendable {
        struct State {
            var continuation: CheckedContinuation<Result<T, StatusError>, Never>?
            var work: Task<Void, Never>?
            var timer: Task<Void, Never>?
            var answer: Result<T, StatusError>?
        }
        let state = Mutex(State())

        func begin(_ continuation: CheckedContinuation<Result<T, StatusError>, Never>, work: Task<Void, Never>, timer: Task<Void, Never>) {
            let early = state.withLock { s -> Result<T, StatusError>? in
                s.work = work
                s.timer = timer
                if let answer = s.answer { return answer }
                s.continuation = continuation
                return nil
            }
            if let early {
                work.cancel()
                timer.cancel()
                continuation.resume(returning: early)
            }
        }

        func finish(_ result: Result<T, StatusError>) {
            let (continuation, tasks) = state.withLock { s -> (CheckedContinuation<Result<T, StatusError>, Never>?, [Task<Void, Never>]) in
                guard s.answer == nil else { return (nil, []) }
                s.answer = result
                defer { s.continuation = nil }
                return (s.continuation, [s.work, s.timer].compactMap { $0 })
            }
            guard let continuation else { return }
            for task in tasks { task.cancel() }
            continuation.resume(returning: result)
        }
    }
}
