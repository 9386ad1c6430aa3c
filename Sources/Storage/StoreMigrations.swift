import Foundation
import GRDB

/// How a store written by an older cubby becomes the format this one writes: step N turns format
/// N into N+1. Every pending step runs in the transaction that records the new format, so a step
/// that fails leaves the store exactly as it was.
public enum StoreMigrations {
    public typealias Step = @Sendable (Database) throws -> Void

    /// Format 1 is the first, so there is no step yet. The next change to the tables adds
    /// `1: { db in ... }` here and raises `SQLiteStore.formatVersion` to 2.
    public static let steps: [Int: Step] = [:]

    /// Reads the store's format, refuses a newer one and brings an older one up to `target`;
    /// returns the format found (nil: none recorded yet, which is then recorded as `target`).
    /// Runs before the tables are created, so a refused store is not written to.
    @discardableResult
    static func upgrade(_ db: Database, to target: Int, steps: [Int: Step], createTables: (Database) throws -> Void) throws -> Int? {
        let found = try db.tableExists("meta")
            ? Int.fetchOne(db, sql: "SELECT value FROM meta WHERE name = 'format_version'") : nil
        if let found, found > target { throw StorageError.unsupportedFormat(found: found, supported: target) }
        try createTables(db)
        if let found, found < target {
            for n in found..<target {
                guard let step = steps[n] else { throw StorageError.io("no migration from store format \(n) to \(n + 1)") }
                try step(db)
            }
        }
        if found != target {
            try db.execute(sql: "INSERT OR REPLACE INTO meta(name, value) VALUES ('format_version', ?)", arguments: [target])
        }
        return found
    }
}

extension SQLiteStore {
    /// What a store file holds, as far as opening it is concerned.
    public enum FileCheck: Sendable, Equatable {
        /// No store yet: the next start makes one.
        case absent
        case current
        /// Written by an older cubby: `migrate(path:)` (or the next open) brings it up to date.
        case older(Int)
        /// Written by a newer cubby: refused.
        case newer(Int)
        /// Not a store this binary can open; the reason reads after the file's path, e.g.
        /// "is not a cubby store (file is not a database)".
        case unreadable(String)
    }

    /// Looks at the store without writing to it (read-only, and any empty -wal/-shm file the look
    /// itself made is removed again), so a start can refuse a store before anything touches it.
    public static func check(path: String, supported: Int = formatVersion) -> FileCheck {
        let files = FileManager.default
        guard files.fileExists(atPath: path) else { return .absent }
        let wal = path + "-wal", shm = path + "-shm"
        let hadWAL = files.fileExists(atPath: wal), hadSHM = files.fileExists(atPath: shm)
        defer {
            let walSize = (try? files.attributesOfItem(atPath: wal))?[.size] as? Int
            if !hadWAL, walSize == 0 { try? files.removeItem(atPath: wal) }
            if !hadWAL, !hadSHM, !files.fileExists(atPath: wal) { try? files.removeItem(atPath: shm) }
        }
        do {
            var config = Configuration()
            config.readonly = true
            let queue = try DatabaseQueue(path: path, configuration: config)
            defer { try? queue.close() }
            return try queue.read { db -> FileCheck in
                guard try db.tableExists("log") else {
                    let tables = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sqlite_master") ?? 0
                    return tables == 0 ? .absent : .unreadable("is not a cubby store (it holds other tables)")
                }
                let found = try db.tableExists("meta")
                    ? Int.fetchOne(db, sql: "SELECT value FROM meta WHERE name = 'format_version'") : nil
                guard let found else { return .current }
                return found > supported ? .newer(found) : found < supported ? .older(found) : .current
            }
        } catch let error as DatabaseError {
            return .unreadable(describe(error))
        } catch {
            return .unreadable("cannot be read (\(error))")
        }
    }

    /// Brings an older store up to `target` (the steps run in one transaction); returns the format
    /// found. A newer store is refused untouched.
    @discardableResult
    public static func migrate(path: String, to target: Int = formatVersion,
                               steps: [Int: StoreMigrations.Step] = StoreMigrations.steps) throws(StorageError) -> Int? {
        do {
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            defer { try? queue.close() }
            return try queue.write { db in try StoreMigrations.upgrade(db, to: target, steps: steps, createTables: createTables) }
        } catch let error as StorageError {
            throw error
        } catch let error as DatabaseError {
            throw .io("\(path) \(describe(error))")
        } catch {
            throw .io("cannot migrate the store at \(path): \(error)")
        }
    }

    /// The reason SQLite gives, after the file's path: "is not a cubby store (file is not a database)".
    static func describe(_ error: DatabaseError) -> String {
        let message = error.message ?? "\(error)"
        switch error.resultCode {
        case .SQLITE_NOTADB: return "is not a cubby store (\(message))"
        case .SQLITE_CORRUPT: return "is damaged (\(message))"
        default: return "cannot be read (\(message))"
        }
    }
}
