import Foundation

/// One object as the store holds it: its key, the revision that last wrote it (its
/// resourceVersion), the revision that created it, and its serialized JSON.
public struct StoredObject: Sendable, Equatable {
    public var key: String
    public var revision: Int64
    public var createRevision: Int64
    public var value: Data

    public init(key: String, revision: Int64, createRevision: Int64, value: Data) {
        self.key = key
        self.revision = revision
        self.createRevision = createRevision
        self.value = value
    }
}

/// A change to one key. For a deletion, `object` holds the last state before the deletion and
/// `revision` is the deletion's own revision.
public struct StorageEvent: Sendable {
    public enum Kind: String, Sendable { case added = "ADDED", modified = "MODIFIED", deleted = "DELETED" }
    public var kind: Kind
    public var revision: Int64
    public var object: StoredObject
    /// The state before a modification or deletion, when still known (used to decide whether a
    /// filtered watcher sees the change as an entry, an exit or a modification).
    public var previous: StoredObject?

    public init(kind: Kind, revision: Int64, object: StoredObject, previous: StoredObject?) {
        self.kind = kind
        self.revision = revision
        self.object = object
        self.previous = previous
    }
}

public enum StorageError: Error, Sendable, Equatable {
    case keyExists(String)
    case notFound(String)
    /// The caller's expected revision is not the key's current one.
    case conflict(key: String, current: Int64)
    /// The requested revision has been compacted away.
    case compacted(requested: Int64, compacted: Int64)
    /// The requested revision is newer than any the store has written.
    case futureRevision(requested: Int64, current: Int64)
    /// The data directory holds a store written by a newer format than this binary knows.
    case unsupportedFormat(found: Int, supported: Int)
    case io(String)
    /// The store did not answer in time (an etcd cluster without a quorum).
    case timeout(String)
    /// The write is bigger than the store takes in one request (etcd's `--max-request-bytes`).
    case requestTooLarge
}

/// etcd's default `--max-request-bytes`: the largest write the stores take, so what fits in
/// Cubby's store fits in a real cluster's etcd too.
public let maxRequestBytes = 1536 * 1024

extension StorageError {
    /// Refuses a write of `key` and `value` that etcd would refuse as too large.
    static func checkSize(_ key: String, _ value: Data) throws(StorageError) {
        if key.utf8.count + value.count > maxRequestBytes { throw .requestTooLarge }
    }
}

extension StorageError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .keyExists(let key): return "\(key) already exists"
        case .notFound(let key): return "\(key) not found"
        case .conflict(let key, let current): return "\(key) was changed (now at revision \(current))"
        case .compacted(let requested, let compacted): return "revision \(requested) is compacted (history starts after \(compacted))"
        case .futureRevision(let requested, let current): return "revision \(requested) is newer than the store's \(current)"
        case .unsupportedFormat(let found, let supported):
            return "the store was written by a newer cubby (format \(found); this cubby reads up to \(supported))"
        case .io(let message), .timeout(let message): return message
        case .requestTooLarge: return "etcdserver: request is too large"
        }
    }
}

/// A page of a list: the objects, the revision the list was read at, and whether more keys follow.
public struct ListResult: Sendable {
    public var objects: [StoredObject]
    public var revision: Int64
    public var hasMore: Bool
    public init(objects: [StoredObject], revision: Int64, hasMore: Bool) {
        self.objects = objects
        self.revision = revision
        self.hasMore = hasMore
    }
}

/// The live side of a watch: events in revision order until `cancel` or the store closes.
public struct StorageWatch: Sendable {
    public let events: AsyncStream<StorageEvent>
    /// The revision the watch started at: events after it are live changes.
    public let startRevision: Int64
    /// How many of the first events are the initial state (0 unless asked for).
    public let initialEvents: Int
    public let cancel: @Sendable () -> Void
    /// Why the store ended the events, once they have ended (nil: the watch was cancelled or the
    /// store closed). A restore ends every watch as `compacted`: what it was following is gone.
    public let endReason: @Sendable () -> StorageError?
    public init(events: AsyncStream<StorageEvent>, startRevision: Int64, initialEvents: Int, cancel: @escaping @Sendable () -> Void,
                endReason: @escaping @Sendable () -> StorageError? = { nil }) {
        self.events = events
        self.startRevision = startRevision
        self.initialEvents = initialEvents
        self.cancel = cancel
        self.endReason = endReason
    }
}

/// What restoring a snapshot did: the objects the store holds now, and the revisions before and
/// after (the restored objects take revisions above every one written before).
public struct RestoreSummary: Sendable, Codable, Equatable {
    public var objects: Int
    public var previousRevision: Int64
    public var revision: Int64
    public init(objects: Int, previousRevision: Int64, revision: Int64) {
        self.objects = objects
        self.previousRevision = previousRevision
        self.revision = revision
    }
}

/// The revision log every object lives in (DESIGN rule 4): SQLite by default, or an etcd cluster.
public protocol Store: Sendable {
    /// The newest revision written.
    func currentRevision() async -> Int64
    /// The oldest revision still readable; older reads and watches get `compacted`.
    func compactedRevision() async -> Int64

    func get(_ key: String) async throws(StorageError) -> StoredObject?

    /// Keys under `prefix` in key order, after `startAfter`, at most `limit`, read at `revision`
    /// (nil: the current one).
    func list(prefix: String, startAfter: String?, limit: Int?, at revision: Int64?) async throws(StorageError) -> ListResult

    /// Counts the keys under a prefix (after a key, if given) at the current revision.
    func count(prefix: String, after: String?) async -> Int

    /// Writes a new key. `encode` receives the revision the write takes, so the stored bytes can
    /// carry it as their resourceVersion; or nil, from a store that learns the revision only from
    /// the write itself (etcd): the bytes then carry none, and the store puts it into every
    /// object it reads, as upstream's etcd3 store does.
    func create(_ key: String, encode: @Sendable (Int64?) throws -> Data) async throws -> StoredObject

    /// Replaces a key's value if its current revision is `expectedRevision`.
    func update(_ key: String, expectedRevision: Int64, encode: @Sendable (Int64?) throws -> Data) async throws -> StoredObject

    /// Deletes a key if its current revision is `expectedRevision` (nil: whatever it is).
    /// Returns the deletion event's object: the last state, with the deletion revision.
    func delete(_ key: String, expectedRevision: Int64?) async throws(StorageError) -> StorageEvent

    /// Events for keys under `prefix` after `revision`. With `initialState`, first an ADDED
    /// event for every current key, then changes after the current revision.
    func watch(prefix: String, after revision: Int64?, initialState: Bool) async throws(StorageError) -> StorageWatch

    /// Forgets history at and below `revision`, keeping each key's state as of it.
    func compact(to revision: Int64) async throws(StorageError)

    /// Replaces every object with the current state of the snapshot at `path` (a store file),
    /// as one write: the restored objects take the next revisions, history before them reads as
    /// compacted, and every watch ends (`endReason` compacted), so clients list again.
    func restore(from path: String) async throws(StorageError) -> RestoreSummary

    func close() async
}

extension Store {
    public func restore(from path: String) async throws(StorageError) -> RestoreSummary {
        throw .io("this store cannot restore a snapshot: snapshots are of the SQLite store (an etcd cluster restores with etcdutl)")
    }
}

extension String {
    /// The first key after every key that starts with this prefix: the end of a prefix range.
    public var prefixEnd: String {
        var bytes = Array(utf8)
        while let last = bytes.last {
            if last < 0xFF { bytes[bytes.count - 1] = last + 1; return String(decoding: bytes, as: UTF8.self) }
            bytes.removeLast()
        }
        return "\u{10FFFF}"
    }
}
