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

    /// Writes the current state of the store at `path` into a new store file `destination`: every
    /// object as of one committed revision, read in one read transaction of its own (localkube may
    /// go on writing meanwhile), without the history before it, so the copy is as small as the
    /// state and a restore reads only what it restores.
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
        let state: (format: Int, revision: Int64, objects: [StoredObject])
        do {
            var config = Configuration()
            config.readonly = true
            let source = try DatabaseQueue(path: path, configuration: config)
            defer { try? source.close() }
            state = try source.read { db in
                // An older store keeps its format (and its keys); restoring it migrates the copy.
                let format = try Int.fetchOne(db, sql: "SELECT value FROM meta WHERE name = 'format_version'") ?? formatVersion
                let maxRev = try Int64.fetchOne(db, sql: "SELECT MAX(rev) FROM log") ?? 0
                let savedRev = try Int64.fetchOne(db, sql: "SELECT value FROM meta WHERE name = 'revision'") ?? 0
                return (format, max(maxRev, savedRev), try latestObjects(db))
            }
        } catch let error as DatabaseError {
            throw .io("\(path) \(describe(error))")
        } catch {
            throw .io("cannot read the store at \(path): \(error)")
        }
        do {
            let copy = try DatabaseQueue(path: destination)
            defer { try? copy.close() }
            try copy.write { db in
                try createTables(db)
                try db.execute(sql: "INSERT INTO meta(name, value) VALUES ('format_version', ?), ('revision', ?)",
                               arguments: [state.format, state.revision])
                let insert = try db.makeStatement(sql: "INSERT INTO log(rev, key, created, value) VALUES (?, ?, ?, ?)")
                for o in state.objects { try insert.execute(arguments: [o.revision, o.key, o.createRevision, o.value]) }
            }
        } catch {
            throw .io(writeFailure(error, path: destination))
        }
        chmod(destination, 0o600)
        return SnapshotContents(format: state.format, revision: state.revision, objects: state.objects.count)
    }

    /// Every object a snapshot file holds, in revision order. A file of an older format is migrated
    /// in place (the caller passes a copy of its own). Not checked page by page first: reading
    /// every object reads every page of the table, and SQLite refuses a damaged one as it does.
    static func snapshotObjects(_ path: String) throws(StorageError) -> [StoredObject] {
        switch check(path: path) {
        case .absent: throw .io("\(path) is not a cubby store (it holds no objects table)")
        case .newer(let found): throw .unsupportedFormat(found: found, supported: formatVersion)
        case .unreadable(let reason): throw .io("\(path) \(reason)")
        case .older: try migrate(path: path)
        case .current: break
        }
        do {
            var config = Configuration()
            config.readonly = true
            let queue = try DatabaseQueue(path: path, configuration: config)
            defer { try? queue.close() }
            return try queue.read { db in try latestObjects(db) }
        } catch let error as DatabaseError {
            throw .io("\(path) \(describe(error))")
        } catch {
            throw .io("cannot read \(path): \(error)")
        }
    }
}
