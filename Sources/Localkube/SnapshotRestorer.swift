import APIMachinery
import Foundation
import Logging
import Storage

/// `cubby snapshot restore` on a running cluster: a copy of the snapshot's store file, put beside
/// the store by the CLI (localkube's own, so the restore may migrate it), is read; the store takes
/// its objects in one write and ends every watch, so every informer, in this process and outside,
/// lists again; then what localkube keeps beside the objects is made to match.
final class SnapshotRestorer: Sendable {
    let store: any Store
    let directory: URL
    let logger: Logger
    let beforeAnswer: @Sendable () async -> Void
    let afterRestore: @Sendable () async throws -> Void

    init(store: any Store, directory: URL, logger: Logger, beforeAnswer: @escaping @Sendable () async -> Void,
         afterRestore: @escaping @Sendable () async throws -> Void) {
        self.store = store
        self.directory = directory
        self.logger = logger
        self.beforeAnswer = beforeAnswer
        self.afterRestore = afterRestore
    }

    /// Restores from `name`, a file the CLI put into the data directory (removed afterwards).
    func restore(_ name: String) async throws(StatusError) -> JSON {
        let file = directory.appendingPathComponent(name)
        defer {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: file.path + suffix) }
        }
        guard FileManager.default.fileExists(atPath: file.path) else { throw .badRequest("\(file.path) does not exist") }
        let clock = ContinuousClock(), started = clock.now
        let summary: RestoreSummary
        do { summary = try await store.restore(from: file.path) } catch {
            // The snapshot was refused before anything changed: the client's mistake, not the server's.
            switch error {
            case .unsupportedFormat, .io: throw .badRequest("the snapshot cannot be restored: \(error)".replacingOccurrences(of: file.path, with: "the snapshot's state.db"))
            default: throw .internalError("\(error)")
            }
        }
        logger.notice("restored a snapshot: \(summary.objects) objects, revisions \(summary.previousRevision + 1) to \(summary.revision), in \(clock.now - started)")
        // Before the answer, what the next request relies on (the addresses services hold); the
        // rest (bootstrap objects, system services' endpoints) as upstream's reconcilers do it:
        // right after, while every informer lists the restored state again.
        await beforeAnswer()
        Task {
            do { try await afterRestore() } catch { logger.error("after the restore: \(error)") }
        }
        return ["objects": .int(Int64(summary.objects)), "previousRevision": .int(summary.previousRevision), "revision": .int(summary.revision)]
    }
}
