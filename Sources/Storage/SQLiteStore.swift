import Foundation
import GRDB
import Synchronization

/// The revision log in one SQLite file (WAL mode), with the current state of every key held in
/// memory for reads at the newest revision. Every write takes the next cluster-wide revision and
/// is committed before it is acknowledged, so a killed process loses no acknowledged write.
public actor SQLiteStore: Store {
    /// The on-disk format this binary writes; a store with a higher number is refused.
    public static let formatVersion = 2

    private let db: DatabaseQueue
    private let path: String
    /// The newest durable (and visible) revision.
    private var revision: Int64 = 0
    /// The newest revision handed to a write, durable or still being committed.
    private var assigned: Int64 = 0
    /// Keys written by writes still being committed, and their state after them (nil: deleted).
    private var pending: [String: (revision: Int64, object: StoredObject?)] = [:]
    private var queued: [(PendingWrite, CheckedContinuation<Result<Void, StorageError>, Never>)] = []
    private var flushing = false
    /// Refused writes waiting for the state that refused them to become visible.
    private var visible: [(revision: Int64, continuation: CheckedContinuation<Void, Never>)] = []
    private var compacted: Int64 = 0
    private var current = CurrentState()
    private var watchers: [Int: Watcher] = [:]
    private var nextWatcherID = 0

    private struct Watcher {
        let prefix: String
        let continuation: AsyncStream<StorageEvent>.Continuation
        let end: WatchEnd
    }

    /// Why the store ended a watch, for its consumer to read once the events stop.
    private final class WatchEnd: Sendable {
        let reason = Mutex<StorageError?>(nil)
    }

    public init(path: String) throws(StorageError) {
        self.path = path
        // Refused before SQLite opens it: SQLite would delete the log of an empty file.
        if let damage = Self.damageBeforeOpening(path) { throw .io("\(path) \(damage)") }
        let files = FileManager.default
        let hadWAL = files.fileExists(atPath: path + "-wal"), hadSHM = files.fileExists(atPath: path + "-shm")
        // A log with writes in it: the last stop was not clean, so the whole file is checked.
        let recovering = (Self.size(of: path + "-wal") ?? 0) > Self.walHeaderSize
        // A read-only look held open while the store loads: should the load refuse the file, the
        // writer's close cannot take the exclusive lock its checkpoint needs, and a read-only
        // connection never checkpoints, so a refused store keeps its file and its log byte for byte
        // (the log may hold the last acknowledged writes).
        var look: DatabaseQueue? = nil
        if files.fileExists(atPath: path) {
            var readOnly = Configuration()
            readOnly.readonly = true
            look = try? DatabaseQueue(path: path, configuration: readOnly)
        }
        let queue: DatabaseQueue
        let loaded: (Int64, Int64, [StoredObject])
        do {
            do {
                queue = try DatabaseQueue(path: path, configuration: Self.configuration)
            } catch let error as DatabaseError {
                throw StorageError.io("\(path) \(Self.describe(error))")
            } catch {
                throw StorageError.io("cannot open the store at \(path): \(error)")
            }
            do {
                if recovering { try Self.checkWhole(queue, path: path) }
                loaded = try Self.load(queue, path: path)
            } catch {
                try? queue.close()
                throw error
            }
        } catch {
            try? look?.close()
            Self.removeTraces(path, hadWAL: hadWAL, hadSHM: hadSHM)
            throw error as? StorageError ?? .io("cannot open the store at \(path): \(error)")
        }
        try? look?.close()
        db = queue
        // Every secret of the cluster is in here: the owner's alone, as kubeadm keeps etcd's data.
        for file in [path, path + "-wal", path + "-shm"] { chmod(file, 0o600) }
        let (rev, comp, objects) = loaded
        revision = rev
        assigned = rev
        compacted = comp
        current = CurrentState(objects)
    }

    /// A WAL file's header; a log no longer than this holds no writes.
    static let walHeaderSize = 32

    static func size(of file: String) -> Int? {
        (try? FileManager.default.attributesOfItem(atPath: file))?[.size] as? Int
    }

    /// What is wrong with the store's files before SQLite is let near them. An empty state.db
    /// beside a log with writes in it: SQLite, opening an empty file, deletes its log (and SQLite
    /// writes a WAL-mode file's first page before any log, so this is never a crash's doing).
    /// Without such a log, a file that is not a whole number of pages: SQLite reads the missing
    /// end of the last page as zeros, and finds nothing amiss when those bytes were values.
    static func damageBeforeOpening(_ path: String) -> String? {
        guard let bytes = size(of: path) else { return nil }
        let log = size(of: path + "-wal") ?? 0
        if bytes == 0, log > walHeaderSize {
            return "is damaged (the file is empty, but its write-ahead log \((path as NSString).lastPathComponent)-wal holds \(log) bytes)"
        }
        guard log <= walHeaderSize, let page = pageSize(path), bytes % page != 0 else { return nil }
        return "is damaged (\(bytes) bytes long, not a whole number of its \(page)-byte pages)"
    }

    /// The page size an SQLite file's header gives (nil when it has no SQLite header).
    static func pageSize(_ path: String) -> Int? {
        guard let file = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? file.close() }
        guard let header = try? file.read(upToCount: 18), header.count == 18,
              header.prefix(16) == Data("SQLite format 3\0".utf8) else { return nil }
        let value = Int(header[16]) << 8 | Int(header[17])
        return value == 1 ? 65536 : value
    }

    /// Removes the empty -wal and the -shm that opening a store made, when it had none before.
    static func removeTraces(_ path: String, hadWAL: Bool, hadSHM: Bool) {
        let files = FileManager.default
        let wal = path + "-wal", shm = path + "-shm"
        if !hadWAL, size(of: wal) == 0 { try? files.removeItem(atPath: wal) }
        if !hadWAL, !hadSHM, !files.fileExists(atPath: wal) { try? files.removeItem(atPath: shm) }
    }

    /// Reads every page of every tree (`PRAGMA quick_check`), as a file system is checked after a
    /// crash: a file cut short beside its log can otherwise load (the current objects are whole)
    /// and fail later, on the first read of older revisions.
    static func checkWhole(_ db: DatabaseQueue, path: String) throws(StorageError) {
        let result: [String]
        do {
            result = try db.read { try String.fetchAll($0, sql: "PRAGMA quick_check(1)") }
        } catch let error as DatabaseError {
            throw .io("\(path) \(describe(error))")
        } catch {
            throw .io("cannot read the store at \(path): \(error)")
        }
        guard result != ["ok"] else { return }
        let problem = result.joined(separator: "\n").split(separator: "\n")
            .filter { !$0.hasPrefix("*** in database") }.joined(separator: "; ")
        throw .io("\(path) is damaged (\(problem.isEmpty ? "integrity check failed" : problem))")
    }

    /// WAL mode, set by hand rather than by GRDB's `journalMode = .wal`, which writes a table to
    /// every store it opens: a store refused for its format must be left byte for byte as it was.
    static var configuration: Configuration {
        var config = Configuration()
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        return config
    }

    static func createTables(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE IF NOT EXISTS log (
                rev INTEGER PRIMARY KEY,
                key TEXT NOT NULL,
                created INTEGER NOT NULL,
                deleted INTEGER NOT NULL DEFAULT 0,
                prev_rev INTEGER NOT NULL DEFAULT 0,
                value BLOB NOT NULL
            );
            CREATE INDEX IF NOT EXISTS log_key_rev ON log(key, rev);
            CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
            """)
    }

    /// Checks (and if older, migrates) the format, then reads the current state of every key.
    private static func load(_ db: DatabaseQueue, path: String) throws(StorageError) -> (Int64, Int64, [StoredObject]) {
        do {
            return try db.write { db in
                try StoreMigrations.upgrade(db, to: formatVersion, steps: StoreMigrations.steps, createTables: createTables)
                let maxRev = try Int64.fetchOne(db, sql: "SELECT MAX(rev) FROM log") ?? 0
                let savedRev = try Int64.fetchOne(db, sql: "SELECT value FROM meta WHERE name = 'revision'") ?? 0
                let comp = try Int64.fetchOne(db, sql: "SELECT value FROM meta WHERE name = 'compacted'") ?? 0
                return (max(maxRev, savedRev), comp, try latestObjects(db))
            }
        } catch let error as StorageError {
            throw error
        } catch let error as DatabaseError {
            throw .io("\(path) \(describe(error))")
        } catch {
            throw .io("cannot read the store at \(path): \(error)")
        }
    }

    /// Every key's newest state, unless that is its deletion; in revision order.
    static func latestObjects(_ db: Database) throws -> [StoredObject] {
        let rows = try Row.fetchAll(db, sql: """
            SELECT l.key, l.rev, l.created, l.value FROM log l
            JOIN (SELECT key, MAX(rev) AS rev FROM log GROUP BY key) m ON l.key = m.key AND l.rev = m.rev
            WHERE l.deleted = 0 ORDER BY l.rev
            """)
        return rows.map { StoredObject(key: $0["key"], revision: $0["rev"], createRevision: $0["created"], value: $0["value"]) }
    }

    public func currentRevision() -> Int64 { revision }
    public func compactedRevision() -> Int64 { compacted }

    public func get(_ key: String) throws(StorageError) -> StoredObject? { current[key] }

    public func count(prefix: String, after: String?) -> Int { current.count(prefix: prefix, after: after) }

    public func list(prefix: String, startAfter: String?, limit: Int?, at requested: Int64?) throws(StorageError) -> ListResult {
        if let requested, requested != revision {
            if requested < compacted { throw .compacted(requested: requested, compacted: compacted) }
            if requested > revision { throw .futureRevision(requested: requested, current: revision) }
            return try listHistory(prefix: prefix, startAfter: startAfter, limit: limit, at: requested)
        }
        let page = current.page(prefix: prefix, startAfter: startAfter, limit: limit)
        return ListResult(objects: page.objects, revision: revision, hasMore: page.hasMore)
    }

    private func listHistory(prefix: String, startAfter: String?, limit: Int?, at rev: Int64) throws(StorageError) -> ListResult {
        let cap = limit.map { $0 > 0 ? $0 : Int.max } ?? Int.max
        do {
            let rows = try db.read { db in
                try Row.fetchAll(db, sql: """
                    SELECT l.key, l.rev, l.created, l.value FROM log l
                    WHERE l.key >= ? AND l.key > ? AND l.key < ? AND l.rev <= ?
                      AND l.rev = (SELECT MAX(x.rev) FROM log x WHERE x.key = l.key AND x.rev <= ?)
                      AND l.deleted = 0
                    ORDER BY l.key LIMIT ?
                    """, arguments: [prefix, startAfter ?? "", prefix.prefixEnd, rev, rev, cap == Int.max ? -1 : cap + 1])
            }
            var objects = rows.map { StoredObject(key: $0["key"], revision: $0["rev"], createRevision: $0["created"], value: $0["value"]) }
            let more = objects.count > cap
            if more { objects.removeLast() }
            return ListResult(objects: objects, revision: rev, hasMore: more)
        } catch {
            throw .io("\(error)")
        }
    }

    public func create(_ key: String, encode: @Sendable (Int64?) throws -> Data) async throws -> StoredObject {
        if latest(key) != nil { throw await refusal(key, StorageError.keyExists(key)) }
        let rev = assigned + 1
        let value = try encode(rev)
        try StorageError.checkSize(key, value)
        let object = StoredObject(key: key, revision: rev, createRevision: rev, value: value)
        try await commit(StorageEvent(kind: .added, revision: rev, object: object, previous: nil), previousRevision: 0)
        return object
    }

    public func update(_ key: String, expectedRevision: Int64, encode: @Sendable (Int64?) throws -> Data) async throws -> StoredObject {
        guard let old = latest(key) else { throw await refusal(key, StorageError.notFound(key)) }
        guard old.revision == expectedRevision else { throw await refusal(key, StorageError.conflict(key: key, current: old.revision)) }
        let rev = assigned + 1
        let value = try encode(rev)
        try StorageError.checkSize(key, value)
        let object = StoredObject(key: key, revision: rev, createRevision: old.createRevision, value: value)
        try await commit(StorageEvent(kind: .modified, revision: rev, object: object, previous: old), previousRevision: old.revision)
        return object
    }

    public func delete(_ key: String, expectedRevision: Int64?) async throws(StorageError) -> StorageEvent {
        guard let old = latest(key) else { throw await refusal(key, .notFound(key)) }
        if let expectedRevision, old.revision != expectedRevision { throw await refusal(key, .conflict(key: key, current: old.revision)) }
        let rev = assigned + 1
        let event = StorageEvent(kind: .deleted, revision: rev,
                                 object: StoredObject(key: key, revision: rev, createRevision: old.createRevision, value: old.value), previous: old)
        try await commit(event, previousRevision: old.revision)
        return event
    }

    // MARK: group commit

    /// A write refused for a state still being committed is refused once that state is visible,
    /// so the caller's next read sees what beat it (else it would read the old state and retry
    /// into the same refusal).
    private func refusal(_ key: String, _ error: StorageError) async -> StorageError {
        if let inFlight = pending[key], inFlight.revision > revision {
            await withCheckedContinuation { visible.append((inFlight.revision, $0)) }
        }
        return error
    }

    /// A key's state after the writes in flight: what the next write to it compares against.
    private func latest(_ key: String) -> StoredObject? {
        if let inFlight = pending[key] { return inFlight.object }
        return current[key]
    }

    /// Takes the write's revision, queues it for the next transaction and waits until that
    /// transaction has committed. Writes that arrive while one commits share the next one (group
    /// commit); reads and watches see a write only once it is durable, in revision order.
    private func commit(_ event: StorageEvent, previousRevision: Int64) async throws(StorageError) {
        assigned = event.revision
        pending[event.object.key] = (event.revision, event.kind == .deleted ? nil : event.object)
        let write = PendingWrite(event: event, previousRevision: previousRevision)
        let result: Result<Void, StorageError> = await withCheckedContinuation { continuation in
            queued.append((write, continuation))
            if !flushing {
                flushing = true
                Task { await self.flush() }
            }
        }
        try result.get()
    }

    private struct PendingWrite: Sendable {
        let event: StorageEvent
        let previousRevision: Int64
    }

    /// Commits what is queued, one transaction at a time, until nothing is.
    private func flush() async {
        while !queued.isEmpty {
            let batch = queued
            queued.removeAll()
            let writes = batch.map(\.0)
            do {
                try await db.write { db in
                    // A cached statement: every write is this one insert, compiled once.
                    let insert = try db.cachedStatement(sql: "INSERT INTO log(rev, key, created, deleted, prev_rev, value) VALUES (?, ?, ?, ?, ?, ?)")
                    for w in writes {
                        let o = w.event.object
                        try insert.execute(arguments: [o.revision, o.key, o.createRevision, w.event.kind == .deleted ? 1 : 0, w.previousRevision, o.value])
                    }
                }
            } catch {
                // Nothing queued can stand on a write that failed: every one fails, and the next
                // writes start again from what is durable.
                let failure = StorageError.io(Self.writeFailure(error, path: path))
                let rest = queued
                queued.removeAll()
                pending.removeAll()
                assigned = revision
                for (_, waiter) in batch + rest { waiter.resume(returning: .failure(failure)) }
                for waiter in visible { waiter.continuation.resume() }
                visible.removeAll()
                break
            }
            for w in writes { apply(w.event) }
            for (_, waiter) in batch { waiter.resume(returning: .success(())) }
            let seen = visible.filter { $0.revision <= revision }
            visible.removeAll { $0.revision <= revision }
            for waiter in seen { waiter.continuation.resume() }
        }
        flushing = false
    }

    /// Why a write failed, in words to act on: a full disk is named as such, with the file it
    /// holds (upstream answers a storage failure 500 InternalError; the message says the rest).
    static func writeFailure(_ error: any Error, path: String) -> String {
        if let error = error as? DatabaseError, error.resultCode == .SQLITE_FULL {
            return "the disk holding \(path) is full: the write was not made; free some space and try again"
        }
        return "write failed: \(error)"
    }

    /// Makes a durable write visible: the current state, the key index, watchers.
    private func apply(_ event: StorageEvent) {
        let key = event.object.key
        if pending[key]?.revision == event.revision { pending.removeValue(forKey: key) }
        if event.kind == .deleted { current.remove(key) } else { current.put(event.object) }
        revision = event.revision
        publish(event)
    }

    private func publish(_ event: StorageEvent) {
        for (_, w) in watchers where event.object.key.hasPrefix(w.prefix) {
            w.continuation.yield(event)
        }
    }

    public func watch(prefix: String, after requested: Int64?, initialState: Bool) throws(StorageError) -> StorageWatch {
        let (stream, continuation) = AsyncStream<StorageEvent>.makeStream(bufferingPolicy: .unbounded)
        var initialEvents = 0
        if initialState {
            for o in current.page(prefix: prefix, startAfter: nil, limit: nil).objects {
                continuation.yield(StorageEvent(kind: .added, revision: o.revision, object: o, previous: nil))
                initialEvents += 1
            }
        } else if let requested, requested < revision {
            if requested < compacted { throw .compacted(requested: requested, compacted: compacted) }
            for event in try history(prefix: prefix, after: requested, through: revision) { continuation.yield(event) }
        }
        let id = nextWatcherID
        nextWatcherID += 1
        let end = WatchEnd()
        watchers[id] = Watcher(prefix: prefix, continuation: continuation, end: end)
        continuation.onTermination = { [weak self] _ in
            Task { await self?.removeWatcher(id) }
        }
        return StorageWatch(events: stream, startRevision: initialState ? revision : (requested ?? revision), initialEvents: initialEvents,
                            cancel: { continuation.finish() }, endReason: { end.reason.withLock { $0 } })
    }

    private func removeWatcher(_ id: Int) { watchers.removeValue(forKey: id) }

    public func watcherCount() -> Int { watchers.count }

    /// The log from `rev` to `last`, the newest applied revision: a batch committed while a write
    /// awaits SQLite is in the file before it is applied, and applying it publishes it to this
    /// watcher too, so reading past `last` would send those events twice.
    private func history(prefix: String, after rev: Int64, through last: Int64) throws(StorageError) -> [StorageEvent] {
        do {
            let rows = try db.read { db in
                try Row.fetchAll(db, sql: """
                    SELECT l.key, l.rev, l.created, l.deleted, l.prev_rev, l.value, p.value AS prev_value
                    FROM log l LEFT JOIN log p ON p.rev = l.prev_rev AND l.prev_rev > 0
                    WHERE l.rev > ? AND l.rev <= ? AND l.key >= ? AND l.key < ? ORDER BY l.rev
                    """, arguments: [rev, last, prefix, prefix.prefixEnd])
            }
            return rows.map { row in
                let key: String = row["key"]
                let object = StoredObject(key: key, revision: row["rev"], createRevision: row["created"], value: row["value"])
                let prevRev: Int64 = row["prev_rev"]
                let prevValue: Data? = row["prev_value"]
                let previous = prevValue.map { StoredObject(key: key, revision: prevRev, createRevision: object.createRevision, value: $0) }
                let deleted: Int = row["deleted"]
                let kind: StorageEvent.Kind = deleted != 0 ? .deleted : (prevRev == 0 ? .added : .modified)
                return StorageEvent(kind: kind, revision: object.revision, object: object, previous: previous)
            }
        } catch {
            throw .io("\(error)")
        }
    }

    public func compact(to target: Int64) throws(StorageError) {
        let rev = min(target, revision)
        guard rev > compacted else { return }
        do {
            try db.write { db in
                // Superseded versions, and deletion markers, at or below the target.
                try db.execute(sql: """
                    DELETE FROM log WHERE rev <= ? AND (deleted = 1 OR EXISTS (
                        SELECT 1 FROM log n WHERE n.key = log.key AND n.rev > log.rev AND n.rev <= ?))
                    """, arguments: [rev, rev])
                try db.execute(sql: "INSERT OR REPLACE INTO meta(name, value) VALUES ('compacted', ?), ('revision', ?)",
                               arguments: [rev, revision])
            }
        } catch {
            throw .io("compaction failed: \(error)")
        }
        compacted = rev
    }

    public func restore(from snapshot: String) async throws(StorageError) -> RestoreSummary {
        // Read and checked first: a snapshot that cannot be restored changes nothing.
        let objects = try Self.snapshotObjects(snapshot)
        // Writes being committed finish first (each is acknowledged); from here on nothing
        // suspends, so no write interleaves with the swap.
        while flushing { try? await Task.sleep(for: .milliseconds(1)) }
        let previous = revision
        // The restored objects take the revisions after the current one, in the order they were
        // written, as `etcdutl snapshot restore --bump-revision` moves them: no resourceVersion
        // goes backwards. Every revision before the restore reads as compacted (`--mark-compacted`),
        // so a watch or list from before it is 410 Gone and the client lists again. One revision
        // more marks the restore itself, so even an empty snapshot moves the revision on.
        let restored = objects.enumerated().map { i, o in
            let rev = previous + 1 + Int64(i)
            return StoredObject(key: o.key, revision: rev, createRevision: rev, value: ResourceVersionStamp.restamp(o.value, revision: rev))
        }
        let last = previous + Int64(restored.count) + 1
        try Self.replaceLog(db, path: path, with: restored, compacted: previous + 1, revision: last)
        revision = last
        assigned = last
        compacted = previous + 1
        current = CurrentState(restored)
        for (_, w) in watchers {
            w.end.reason.withLock { $0 = .compacted(requested: previous, compacted: previous + 1) }
            w.continuation.finish()
        }
        watchers.removeAll()
        return RestoreSummary(objects: restored.count, previousRevision: previous, revision: last)
    }

    /// One transaction (synchronous: nothing else of the actor runs until the swap is done).
    private static func replaceLog(_ db: DatabaseQueue, path: String, with objects: [StoredObject], compacted: Int64,
                                   revision: Int64) throws(StorageError) {
        do {
            try db.write { db in
                try db.execute(sql: "DELETE FROM log")
                let insert = try db.cachedStatement(sql: "INSERT INTO log(rev, key, created, deleted, prev_rev, value) VALUES (?, ?, ?, 0, 0, ?)")
                for o in objects { try insert.execute(arguments: [o.revision, o.key, o.createRevision, o.value]) }
                try db.execute(sql: "INSERT OR REPLACE INTO meta(name, value) VALUES ('compacted', ?), ('revision', ?)",
                               arguments: [compacted, revision])
            }
        } catch {
            throw .io(writeFailure(error, path: path))
        }
    }

    public func close() async {
        // Writes being committed finish first: each is acknowledged, so each must be kept.
        while flushing { try? await Task.sleep(for: .milliseconds(1)) }
        for (_, w) in watchers { w.continuation.finish() }
        watchers.removeAll()
        try? db.close()
    }
}
