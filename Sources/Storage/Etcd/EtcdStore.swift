import Foundation
import GRPCCore
import Synchronization

/// The revision log on an etcd cluster, through etcd's v3 API, as upstream's apiserver keeps it:
/// etcd's revisions are the resourceVersions, each key holds one object's JSON (without its
/// resourceVersion, which reads take from the key's mod_revision), writes are transactions that
/// compare the key's revision the caller read, and watches are served from a cache of recent
/// events that one etcd watch feeds (each API server its own).
public final class EtcdStore: Store {
    let connection: EtcdConnection
    let cache: EtcdWatchCache
    /// The configured prefix that stands for the Registry's `/registry`.
    let prefix: String
    let compacted = Mutex<Int64>(0)
    /// Objects per Range call when a list wants everything: pages stay well under a message's size
    /// limit and etcd's own.
    static let pageSize: Int64 = 500
    static let registryRoot = "/registry"

    /// Connects and reads the current revision, so an unreachable cluster fails the start in one
    /// line rather than the first request.
    public init(configuration: EtcdConfiguration) async throws(StorageError) {
        connection = try EtcdConnection(configuration)
        prefix = configuration.prefix
        do {
            let head = try await Self.range(connection, key: Data(prefix.utf8), end: Data(prefix.prefixEnd.utf8), limit: 1, countOnly: true)
            cache = EtcdWatchCache(connection: connection, prefix: Data((prefix + "/").utf8), translate: { [prefix] in Self.registryKey($0, prefix: prefix) },
                                   startRevision: head.header.revision)
        } catch {
            connection.close()
            let servers = configuration.endpoints.map { "\($0.secure ? "https" : "http")://\($0.host):\($0.port)" }.joined(separator: ",")
            throw .io("cannot reach etcd at \(servers): \(error)")
        }
        await cache.start()
    }

    // MARK: keys

    func etcdKey(_ key: String) -> Data {
        if key.hasPrefix(Self.registryRoot) { return Data((prefix + key.dropFirst(Self.registryRoot.count)).utf8) }
        return Data((prefix + "/" + key).utf8)
    }

    static func registryKey(_ key: Data, prefix: String) -> String {
        let s = String(decoding: key, as: UTF8.self)
        return s.hasPrefix(prefix) ? registryRoot + s.dropFirst(prefix.count) : s
    }

    func object(_ kv: Mvccpb_KeyValue) -> StoredObject {
        StoredObject(key: Self.registryKey(kv.key, prefix: prefix), revision: kv.modRevision, createRevision: kv.createRevision,
                     value: ResourceVersionStamp.stamp(kv.value, revision: kv.modRevision))
    }

    // MARK: reads

    static func range(_ connection: EtcdConnection, key: Data, end: Data? = nil, limit: Int64 = 0, revision: Int64 = 0,
                      countOnly: Bool = false) async throws(StorageError) -> Etcdserverpb_RangeResponse {
        var request = Etcdserverpb_RangeRequest()
        request.key = key
        if let end { request.rangeEnd = end }
        request.limit = limit
        request.revision = revision
        request.countOnly = countOnly
        do {
            return try await connection.call { [request] options in try await connection.kv.range(request, options: options) }
        } catch {
            throw revisionError(error, requested: revision)
        }
    }

    /// etcd's words for a revision out of reach, as the errors the Registry answers 410 and 504 for.
    static func revisionError(_ error: StorageError, requested: Int64, current: Int64 = 0) -> StorageError {
        guard case .io(let message) = error else { return error }
        if message.contains("required revision has been compacted") { return .compacted(requested: requested, compacted: requested) }
        if message.contains("required revision is a future revision") { return .futureRevision(requested: requested, current: current) }
        return error
    }

    public func currentRevision() async -> Int64 {
        let head = try? await Self.range(connection, key: Data(prefix.utf8), limit: 1, countOnly: true)
        if let head { return head.header.revision }
        return await cache.currentRevision()
    }

    public func compactedRevision() -> Int64 { compacted.withLock { $0 } }

    public func get(_ key: String) async throws(StorageError) -> StoredObject? {
        try await Self.range(connection, key: etcdKey(key)).kvs.first.map(object)
    }

    public func list(prefix: String, startAfter: String?, limit: Int?, at requested: Int64?) async throws(StorageError) -> ListResult {
        let start = etcdKey(startAfter.map { max($0 + "\u{0}", prefix) } ?? prefix)
        let end = etcdKey(prefix.prefixEnd)
        var revision = requested ?? 0
        let cap = limit.map { $0 > 0 ? Int64($0) : Int64.max } ?? Int64.max
        var objects: [StoredObject] = []
        var from = start
        // Pages at one revision until the caller's limit or the keys run out.
        while true {
            let page = try await Self.range(connection, key: from, end: end, limit: min(cap - Int64(objects.count), Self.pageSize),
                                            revision: revision)
            if revision == 0 { revision = page.header.revision }
            objects += page.kvs.map(object)
            if !page.more { return ListResult(objects: objects, revision: revision, hasMore: false) }
            if Int64(objects.count) >= cap { return ListResult(objects: objects, revision: revision, hasMore: true) }
            guard let last = page.kvs.last else { return ListResult(objects: objects, revision: revision, hasMore: false) }
            from = last.key + [0]
        }
    }

    public func count(prefix: String, after: String?) async -> Int {
        let start = etcdKey(after.map { max($0 + "\u{0}", prefix) } ?? prefix)
        let counted = try? await Self.range(connection, key: start, end: etcdKey(prefix.prefixEnd), countOnly: true)
        return Int(counted?.count ?? 0)
    }

    // MARK: writes

    public func create(_ key: String, encode: @Sendable (Int64?) throws -> Data) async throws -> StoredObject {
        let k = etcdKey(key)
        var txn = Etcdserverpb_TxnRequest()
        txn.compare = [Self.compare(k, .create, 0)]
        var put = Etcdserverpb_PutRequest()
        put.key = k
        put.value = try encode(nil)
        txn.success = [Self.op(.requestPut(put))]
        let response = try await transaction(txn)
        guard response.succeeded else { throw StorageError.keyExists(key) }
        let rev = response.header.revision
        return StoredObject(key: key, revision: rev, createRevision: rev, value: ResourceVersionStamp.stamp(put.value, revision: rev))
    }

    public func update(_ key: String, expectedRevision: Int64, encode: @Sendable (Int64?) throws -> Data) async throws -> StoredObject {
        let k = etcdKey(key)
        var txn = Etcdserverpb_TxnRequest()
        txn.compare = [Self.compare(k, .mod, expectedRevision)]
        var put = Etcdserverpb_PutRequest()
        put.key = k
        put.value = try encode(nil)
        put.prevKv = true
        var read = Etcdserverpb_RangeRequest()
        read.key = k
        read.keysOnly = true
        txn.success = [Self.op(.requestPut(put))]
        txn.failure = [Self.op(.requestRange(read))]
        let response = try await transaction(txn)
        guard response.succeeded else { throw Self.mismatch(key, response) }
        let rev = response.header.revision
        let created = response.responses.first?.responsePut.prevKv.createRevision ?? rev
        return StoredObject(key: key, revision: rev, createRevision: created, value: ResourceVersionStamp.stamp(put.value, revision: rev))
    }

    public func delete(_ key: String, expectedRevision: Int64?) async throws(StorageError) -> StorageEvent {
        let k = etcdKey(key)
        var txn = Etcdserverpb_TxnRequest()
        // Without an expected revision, any existing version will do.
        txn.compare = [expectedRevision.map { Self.compare(k, .mod, $0) } ?? Self.compare(k, .create, 0, .greater)]
        var delete = Etcdserverpb_DeleteRangeRequest()
        delete.key = k
        delete.prevKv = true
        var read = Etcdserverpb_RangeRequest()
        read.key = k
        read.keysOnly = true
        txn.success = [Self.op(.requestDeleteRange(delete))]
        txn.failure = [Self.op(.requestRange(read))]
        let response: Etcdserverpb_TxnResponse
        do { response = try await transaction(txn) } catch let error as StorageError { throw error } catch { throw .io("\(error)") }
        guard response.succeeded, let last = response.responses.first?.responseDeleteRange.prevKvs.first else {
            throw Self.mismatch(key, response)
        }
        let rev = response.header.revision
        let previous = object(last)
        let gone = StoredObject(key: key, revision: rev, createRevision: last.createRevision,
                                value: ResourceVersionStamp.stamp(last.value, revision: rev))
        return StorageEvent(kind: .deleted, revision: rev, object: gone, previous: previous)
    }

    func transaction(_ txn: Etcdserverpb_TxnRequest) async throws(StorageError) -> Etcdserverpb_TxnResponse {
        try await connection.call { [connection] options in try await connection.kv.txn(txn, options: options) }
    }

    /// Why a compared write did not apply: the key is gone, or at another revision.
    static func mismatch(_ key: String, _ response: Etcdserverpb_TxnResponse) -> StorageError {
        guard let current = response.responses.first?.responseRange.kvs.first else { return .notFound(key) }
        return .conflict(key: key, current: current.modRevision)
    }

    static func compare(_ key: Data, _ target: Etcdserverpb_Compare.CompareTarget, _ revision: Int64,
                        _ result: Etcdserverpb_Compare.CompareResult = .equal) -> Etcdserverpb_Compare {
        var compare = Etcdserverpb_Compare()
        compare.key = key
        compare.target = target
        compare.result = result
        compare.targetUnion = target == .create ? .createRevision(revision) : .modRevision(revision)
        return compare
    }

    static func op(_ request: Etcdserverpb_RequestOp.OneOf_Request) -> Etcdserverpb_RequestOp {
        var op = Etcdserverpb_RequestOp()
        op.request = request
        return op
    }

    // MARK: watch

    public func watch(prefix: String, after requested: Int64?, initialState: Bool) async throws(StorageError) -> StorageWatch {
        if initialState {
            let current = try await list(prefix: prefix, startAfter: nil, limit: nil, at: nil)
            return try await cache.subscribe(prefix: prefix, after: current.revision, initial: current.objects)
        }
        guard let requested else { return try await cache.subscribe(prefix: prefix, after: await cache.currentRevision(), initial: []) }
        // History etcd has compacted is gone, even where this process's window still holds it
        // (another API server may have compacted): etcd says so for a read at that revision.
        if requested < (await cache.currentRevision()) {
            _ = try await Self.range(connection, key: Data(self.prefix.utf8), limit: 1, revision: requested, countOnly: true)
        }
        return try await cache.subscribe(prefix: prefix, after: requested, initial: [])
    }

    // MARK: maintenance

    /// Compacts etcd's history, as upstream's apiserver does on its interval. Several API servers
    /// may ask for the same revision; etcd's answer that it is compacted already is success.
    public func compact(to revision: Int64) async throws(StorageError) {
        guard revision > compacted.withLock({ $0 }) else { return }
        var request = Etcdserverpb_CompactionRequest()
        request.revision = revision
        do {
            _ = try await connection.call { [connection, request] options in try await connection.kv.compact(request, options: options) }
        } catch {
            guard case .compacted = Self.revisionError(error, requested: revision) else { throw error }
        }
        compacted.withLock { $0 = max($0, revision) }
    }

    public func close() async {
        await cache.stop()
        connection.close()
    }
}
