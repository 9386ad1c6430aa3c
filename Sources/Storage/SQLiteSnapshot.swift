import Foundation
import GRDB

/// Store files as snapshots: a consistent copy of a store, taken beside the process that writes
/// it, and the objects of such a copy, read back for a restore.
extension SQLiteStore {
    /// What a snapshot file holds.
    public struct SnapshotContents: Sendable, Equatable {
        /// The store format the file is written in.
        public var format: Int
        public var revision: Int64
        public var objects: Int
    }

    /// Copies the store at `path` into a new file `destination`, as of one committed revision.
    /// A read transaction of its own (`VACUUM INTO`), so localkube may go on writing meanwhile;
    /// the copy has no write-ahead log of its own and is a compact, whole file.
    public static func saveSnapshot(of path: String, to destination: String) throws(StorageError) -> SnapshotContents {
        switch check(path: path) {
        case .absent: throw .io("\(path) holds no store yet")
        case .newer(let found): throw .unsupportedFormat(found: found, supported: formatVersion)
        case .unreadable(let reason): throw .io("\(path) \(reason)")
        case .current, .older: break
        }
        let files = FileManager.default
        let hadWAL = files.fileExists(atPath: path + "-wal"), hadSHM = files.fileExists(atPath: path + "-shm")
        defer { removeTraces(path, hadWAL: hadWAL, hadSHM: hadSHM) }
        do {
            var config = Configuration()
            config.readonly = true
            let source = try DatabaseQueue(path: path, configuration: config)
            defer { try? source.close() }
            try source.writeWithoutTransaction { db in try db.execute(sql: "VACUUM INTO ?", arguments: [destination]) }
        } catch let error as DatabaseError {
            throw .io(writeFailure(error, path: destination))
        } catch {
            throw .io("cannot copy the store at \(path): \(error)")
        }
        chmod(destination, 0o600)
        return try contents(of: destination)
    }

    /// The format, revision and object count of a snapshot file, which must be whole.
    public static func contents(of path: String) throws(StorageError) -> SnapshotContents {
        try readSnapshot(path) { db, format in
            let maxRev = try Int64.fetchOne(db, sql: "SELECT MAX(rev) FROM log") ?? 0
            let savedRev = try Int64.fetchOne(db, sql: "SELECT value FROM meta WHERE name = 'revision'") ?? 0
            let count = try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM log l JOIN (SELECT key, MAX(rev) AS rev FROM log GROUP BY key) m
                ON l.key = m.key AND l.rev = m.rev WHERE l.deleted = 0
                """) ?? 0
            return SnapshotContents(format: format, revision: max(maxRev, savedRev), objects: count)
        }
    }

    /// Every object a snapshot file holds, in revision order. The file is checked whole first; one
    /// of an older format is migrated in place (the caller passes a copy of its own).
    static func snapshotObjects(_ path: String) throws(StorageError) -> [StoredObject] {
        if case .older = check(path: path) { try migrate(path: path) }
        return try readSnapshot(path) { db, format in
            guard format == formatVersion else { throw StorageError.unsupportedFormat(found: format, supported: formatVersion) }
            return try latestObjects(db)
        }
    }

    /// Opens a snapshot read-only, refuses what is not a whole store of a format this binary
    /// reads, and reads it.
    private static func readSnapshot<T>(_ path: String, _ body: (Database, Int) throws -> T) throws(StorageError) -> T {
        switch check(path: path) {
        case .absent: throw .io("\(path) is not a cubby store (it holds no objects table)")
        case .newer(let found): throw .unsupportedFormat(found: found, supported: formatVersion)
        case .unreadable(let reason): throw .io("\(path) \(reason)")
        case .current, .older: break
        }
        let files = FileManager.default
        let hadWAL = files.fileExists(atPath: path + "-wal"), hadSHM = files.fileExists(atPath: path + "-shm")
        defer { removeTraces(path, hadWAL: hadWAL, hadSHM: hadSHM) }
        do {
            var config = Configuration()
            config.readonly = true
            let queue = try DatabaseQueue(path: path, configuration: config)
            defer { try? queue.close() }
            try checkWhole(queue, path: path)
            return try queue.read { db in
                let format = try Int.fetchOne(db, sql: "SELECT value FROM meta WHERE name = 'format_version'") ?? formatVersion
                return try body(db, format)
            }
        } catch let error as StorageError {
            throw error
        } catch let error as DatabaseError {
            throw .io("\(path) \(describe(error))")
        } catch {
            throw .io("cannot read \(path): \(error)")
        }
    }
}
