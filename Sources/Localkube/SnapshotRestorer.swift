import APIMachinery
import Foundation
import Logging
import NIOCore
import Storage

/// `cubby snapshot restore` on a running cluster: the snapshot's store file arrives as a request
/// body and is written beside the store (a copy of localkube's own, which the restore may migrate);
/// the store takes its objects in one write and ends every watch, so every informer, in this
/// process and outside, lists again; then what localkube keeps beside the objects is made to match.
final class SnapshotRestorer: Sendable {
    let store: any Store
    let directory: URL
    let logger: Logger
    let afterRestore: @Sendable () async throws -> Void

    init(store: any Store, directory: URL, logger: Logger, afterRestore: @escaping @Sendable () async throws -> Void) {
        self.store = store
        self.directory = directory
        self.logger = logger
        self.afterRestore = afterRestore
    }

    func restore(_ body: ByteBuffer) async throws(StatusError) -> JSON {
        let file = directory.appendingPathComponent("restoring-\(UUID().uuidString).db")
        defer {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: file.path + suffix) }
        }
        guard FileManager.default.createFile(atPath: file.path, contents: Data(body.readableBytesView), attributes: [.posixPermissions: 0o600]) else {
            throw .internalError("cannot write \(file.path)")
        }
        let summary: RestoreSummary
        do { summary = try await store.restore(from: file.path) } catch {
            // The snapshot was refused before anything changed: the client's mistake, not the server's.
            switch error {
            case .unsupportedFormat, .io: throw .badRequest("the snapshot cannot be restored: \(error)".replacingOccurrences(of: file.path, with: "the snapshot's state.db"))
            default: throw .internalError("\(error)")
            }
        }
        logger.notice("restored a snapshot: \(summary.objects) objects, revisions \(summary.previousRevision + 1) to \(summary.revision)")
        do { try await afterRestore() } catch {
            logger.error("after the restore: \(error)")
        }
        return ["objects": .int(Int64(summary.objects)), "previousRevision": .int(summary.previousRevision), "revision": .int(summary.revision)]
    }
}
