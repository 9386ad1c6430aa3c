import APIMachinery
import Logging

/// A level-triggered loop (DESIGN rule 5): informers put keys on `queue`, workers take them and
/// call `reconcile(key)`, which makes the world match the object's current state. A failed key
/// is retried with backoff; a key that succeeds is forgotten.
public protocol Controller: Sendable {
    /// Upstream's name for the loop (`deployment`, `replicaset`, ...).
    var name: String { get }
    var queue: WorkQueue { get }
    /// How many keys are reconciled at once (never the same key twice); 2 unless a controller
    /// needs its decisions made one at a time.
    var workers: Int { get }
    /// Wires informer handlers to the queue; called once before workers start.
    func register() async
    func reconcile(_ key: String) async throws
}

extension Controller {
    public var workers: Int { 2 }

    /// Runs `workers` loops until the task is cancelled.
    public func run(logger: Logger) async {
        await register()
        await withTaskCancellationHandler {
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<workers {
                    group.addTask {
                        while let key = await queue.get() {
                            do {
                                try await reconcile(key)
                                queue.forget(key)
                            } catch {
                                logger.debug("\(name) \(key): \(error)")
                                queue.addRateLimited(key)
                            }
                            queue.done(key)
                        }
                    }
                }
            }
        } onCancel: {
            queue.shutDown()
        }
    }
}
