import Foundation
import GRPCCore
import Synchronization

/// The revision log on an etcd cluster, through etcd's v3 API, as upstream's apiserver keeps it:
/// etcd's revisions are the resourceVersions, each key holds one object's JSON (without its
/// resourceVersion, which reads take from the key's mod_revision), writes are transactions that
/// compare the key's revision the caller read. Reads at the newest revision and watches are
/// served from a cache that one etcd watch feeds (each API server its own), as upstream's
/// consistent reads from its watch cache: a read waits until the cache holds this process's last
/// write to the same resource, so a client reads what it wrote; reads at an older revision go to
/// etcd.
public final class EtcdStore: Store {
    let connection: EtcdConnection
    let cache: EtcdWatchCache
    /// The configured prefix that stands for the Registry's `/registry`.
    let prefix: String
    let compacted = Mutex<Int64>(0)
    /// The revision of this process's newest acknowledged write to each resource (the key's first
    /// segment below the root: `configmaps`, `services`, a custom resource's group): what a read
    /// of that resource must see. Only the resource's own: a create need not wait for the
    /// cache to catch up on other resources to read the namespace it goes into.
    let lastWrites = Mutex<[Substring: Int64]>([:])
    /// Objects per Range call when a list wants everything: pages stay well under a message's size
    /// limit and etcd's own.
    static let pageSize: Int64 = 500
    static let registryRoot = "/registry"

    /// Connects and reads every object under the prefix into the cache, so an unreachable
    /// cluster fails the start in one line rather than the first request.
    public init(configuration: EtcdConfiguration) async throws(StorageError) {
        connection = try EtcdConnection(configuration)
        prefix = configuration.prefix
        do {
            let connection = connection, prefix = prefix, root = Data((prefix + "/").utf8)
            cache = try await EtcdWatchCache(connection: connection, prefix: root, translate: { Self.registryKey($0, prefix: prefix) },
                                             load: { () async throws(StorageError) in
                                                 let all = try await Self.loadAll(connection, from: root, to: Data((prefix + "/").prefixEnd.utf8), prefix: prefix)
                                                 return (all.objects, all.revision)
                                             })
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

    func object(_ kv: Mvccpb_KeyValue) -> StoredObject { Self.object(kv, prefix: prefix) }

    static func object(_ kv: Mvccpb_KeyValue, prefix: String) -> StoredObject {
        StoredObject(key: registryKey(kv.key, prefix: prefix), revision: kv.modRevision, createRevision: kv.createRevision,
                     value: ResourceVersionStamp.stamp(kv.value, revision: kv.modRevision))
    }

    /// Every key in [from, to) at one revision (the newest, unless given), read page by page.
    static func loadAll(_ connection: EtcdConnection, from start: Data, to end: Data, prefix: String, limit: Int64 = .max,
                        at requested: Int64 = 0) async throws(StorageError) -> (objects: [StoredObject], revision: Int64, hasMore: Bool) {
        var revision = requested
        var objects: [StoredObject] = []
        var from = start
        while true {
            let page = try await range(connection, key: from, end: end, limit: min(limit - Int64(objects.count), pageSize), revision: revision)
            if revision == 0 { revision = page.header.revision }
            objects += page.kvs.map { object($0, prefix: prefix) }
            guard page.more, let last = page.kvs.last else { return (objects, revision, false) }
            if Int64(objects.count) >= limit { return (objects, revision, true) }
            from = last.key + [0]
        }
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

    /// What a read of `key` (or of the keys under it) must wait for.
    func lastWrite(_ key: String) -> Int64 {
        guard let resource = Self.resource(key) else { return lastWrites.withLock { $0.values.max() ?? 0 } }
        return lastWrites.withLock { $0[resource] ?? 0 }
    }

    static func resource(_ key: String) -> Substring? {
        guard key.hasPrefix(registryRoot + "/") else { return nil }
        let rest = key.dropFirst(registryRoot.count + 1)
        guard let slash = rest.firstIndex(of: "/") else { return rest.isEmpty ? nil : rest }
        return rest[..<slash]
    }

    public func currentRevision() async -> Int64 {
        await cache.read(after: lastWrite(Self.registryRoot + "/")) { _, revision in revision }
    }

    public func compactedRevision() -> Int64 { compacted.withLock { $0 } }

    public func get(_ key: String) async throws(StorageError) -> StoredObject? {
        await cache.read(after: lastWrite(key)) { state, _ in state[key] }
    }

    public func list(prefix: String, startAfter: String?, limit: Int?, at requested: Int64?) async throws(StorageError) -> ListResult {
        let cached = await cache.read(after: lastWrite(prefix)) { state, revision -> ListResult? in
            guard requested == nil || requested == revision else { return nil }
            let page = state.page(prefix: prefix, startAfter: startAfter, limit: limit)
            return ListResult(objects: page.objects, revision: revision, hasMore: page.hasMore)
        }
        if let cached { return cached }
        // An older revision (the next page of a list begun earlier): etcd's history at it.
        let start = etcdKey(startAfter.map { max($0 + "\u{0}", prefix) } ?? prefix)
        let cap = limit.map { $0 > 0 ? Int64($0) : Int64.max } ?? Int64.max
        let read = try await Self.loadAll(connection, from: start, to: etcdKey(prefix.prefixEnd), prefix: self.prefix, limit: cap, at: requested ?? 0)
        return ListResult(objects: read.objects, revision: read.revision, hasMore: read.hasMore)
    }

    public func count(prefix: String, after: String?) async -> Int {
        await cache.read(after: lastWrite(prefix)) { state, _ in state.count(prefix: prefix, after: after) }
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
        let response = try await transaction(key, txn)
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
        let response = try await transaction(key, txn)
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
        do { response = try await transaction(key, txn) } catch let error as StorageError { throw error } catch { throw .io("\(error)") }
        guard response.succeeded, let last = response.responses.first?.responseDeleteRange.prevKvs.first else {
            throw Self.mismatch(key, response)
        }
        let rev = response.header.revision
        let previous = object(last)
        let gone = StoredObject(key: key, revision: rev, createRevision: last.createRevision,
                                value: ResourceVersionStamp.stamp(last.value, revision: rev))
        return StorageEvent(kind: .deleted, revision: rev, object: gone, previous: previous)
    }

    /// One compared write. After it applied, reads wait for it; after it did not (another
    /// writer was first), for the revision that beat it, so the caller's next read sees it.
    func transaction(_ key: String, _ txn: Etcdserverpb_TxnRequest) async throws(StorageError) -> Etcdserverpb_TxnResponse {
        let response = try await connection.call { [connection] options in try await connection.kv.txn(txn, options: options) }
        if response.succeeded {
            if let resource = Self.resource(key) { lastWrites.withLock { $0[resource] = max($0[resource] ?? 0, response.header.revision) } }
        } else {
            await cache.catchUp(to: response.header.revision)
        }
        return response
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
        // History etcd has compacted is gone, even where this process's window still holds it
        // (another API server may have compacted): etcd says so for a read at that revision.
        if !initialState, let requested, requested < (await cache.currentRevision()) {
            _ = try await Self.range(connection, key: Data(self.prefix.utf8), limit: 1, revision: requested, countOnly: true)
        }
        return try await cache.subscribe(prefix: prefix, after: requested, initialState: initialState)
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
