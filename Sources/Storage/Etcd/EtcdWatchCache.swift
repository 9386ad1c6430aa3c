import Foundation
import GRPCCore

/// One API server's view of etcd, as upstream's cacher keeps it: a single etcd watch on the whole
/// prefix (with progress notifications) feeds a mirror of every key's newest
/// state, which reads at the newest revision are served from, and a window of recent events, which
/// every watch of this process is served from. A watch from a revision older than the window is
/// answered 410 Gone, as upstream's watch cache answers it, and the client re-lists.
actor EtcdWatchCache {
    struct Watcher {
        let prefix: String
        let continuation: AsyncStream<StorageEvent>.Continuation
    }

    let connection: EtcdConnection
    /// The etcd prefix watched (the configured prefix and a slash).
    let prefix: Data
    let translate: @Sendable (Data) -> String
    /// Every key's state as of `revision`.
    private var state: CurrentState
    /// Every change up to this revision has been applied and delivered.
    private var revision: Int64
    /// The window holds the changes after this revision.
    private var oldest: Int64
    private var window: [StorageEvent] = []
    private var windowStart = 0
    private var watchers: [Int: Watcher] = [:]
    private var nextWatcherID = 0
    private var waiters: [(revision: Int64, continuation: CheckedContinuation<Void, Never>)] = []
    /// Asks the running etcd watch for a progress notification (the revision it has reached).
    private var progress: AsyncStream<Etcdserverpb_WatchRequest>.Continuation?
    private var pump: Task<Void, Never>?

    /// How many recent changes are kept for watches that start in the past.
    static let capacity = 2_000
    /// How long a watch from a revision this cache has not reached yet waits for it (upstream: 3 s).
    static let catchUpTimeout: Duration = .seconds(3)

    /// `load` reads every key under the prefix at one revision: at the start, and again after
    /// the history the watch needed was compacted away.
    let load: @Sendable () async throws(StorageError) -> (objects: [StoredObject], revision: Int64)

    init(connection: EtcdConnection, prefix: Data, translate: @escaping @Sendable (Data) -> String,
         load: @escaping @Sendable () async throws(StorageError) -> (objects: [StoredObject], revision: Int64)) async throws(StorageError) {
        self.connection = connection
        self.prefix = prefix
        self.translate = translate
        self.load = load
        let (objects, at) = try await load()
        state = CurrentState(objects)
        revision = at
        oldest = at
    }

    func start() {
        pump = Task { await self.follow() }
    }

    func currentRevision() -> Int64 { revision }

    // MARK: feeding

    /// Follows etcd from the cache's revision, again after every broken stream (a member going
    /// away moves the watch to another). History compacted under a broken stream cannot be
    /// replayed: every watch of this cache then ends and its client re-lists, as after upstream's
    /// cacher re-lists.
    private func follow() async {
        var delay: Duration = .milliseconds(50)
        while !Task.isCancelled {
            let (requests, progress) = AsyncStream<Etcdserverpb_WatchRequest>.makeStream()
            self.progress = progress
            var create = Etcdserverpb_WatchCreateRequest()
            create.key = prefix
            create.rangeEnd = Data(String(decoding: prefix, as: UTF8.self).prefixEnd.utf8)
            create.startRevision = revision + 1
            create.progressNotify = true
            var request = Etcdserverpb_WatchRequest()
            request.requestUnion = .createRequest(create)
            let first = request, connection = self.connection
            do {
                try await connection.watch.watch(requestProducer: { writer in
                    try await writer.write(first)
                    for await request in requests { try await writer.write(request) }
                }, onResponse: { response in
                    for try await message in response.messages {
                        if try await self.receive(message) { return }
                    }
                })
            } catch {
                // A broken stream; try again from where the cache is.
            }
            progress.finish()
            if Task.isCancelled { return }
            try? await Task.sleep(for: delay)
            delay = min(delay * 2, .seconds(2))
        }
    }

    /// Takes one message of the etcd watch; true when the stream must be opened again.
    private func receive(_ message: Etcdserverpb_WatchResponse) async throws -> Bool {
        if message.canceled {
            if message.compactRevision > 0 { await restartAfterCompaction() }
            return true
        }
        if message.created { return false }
        if message.events.isEmpty {
            // A progress notification: nothing under the prefix changed up to this revision.
            advance(to: message.header.revision)
            return false
        }
        for event in message.events {
            let kv = event.kv
            let key = translate(kv.key)
            // The state before the change is the mirror's, so etcd need not send it (prev_kv).
            let previous = state[key]
            let stored: StorageEvent
            switch event.type {
            case .delete:
                // The last state, at the deletion's revision (as SQLite's deletions read).
                guard let previous else { continue }
                stored = StorageEvent(kind: .deleted, revision: kv.modRevision,
                                      object: StoredObject(key: key, revision: kv.modRevision, createRevision: previous.createRevision,
                                                           value: previous.value),
                                      previous: previous)
            default:
                stored = StorageEvent(kind: kv.version == 1 ? .added : .modified, revision: kv.modRevision,
                                      object: StoredObject(key: key, revision: kv.modRevision, createRevision: kv.createRevision,
                                                           value: ResourceVersionStamp.stamp(kv.value, revision: kv.modRevision)),
                                      previous: previous)
            }
            if stored.kind == .deleted { state.remove(key) } else { state.put(stored.object) }
            append(stored)
            for (_, w) in watchers where key.hasPrefix(w.prefix) { w.continuation.yield(stored) }
        }
        advance(to: message.events.last!.kv.modRevision)
        return false
    }

    private func append(_ event: StorageEvent) {
        window.append(event)
        if window.count - windowStart > Self.capacity {
            oldest = window[windowStart].revision
            windowStart += 1
            // Drop the consumed front now and then, not on every event.
            if windowStart > Self.capacity / 2 {
                window.removeFirst(windowStart)
                windowStart = 0
            }
        }
    }

    private func advance(to newRevision: Int64) {
        guard newRevision > revision else { return }
        revision = newRevision
        let ready = waiters.filter { $0.revision <= newRevision }
        waiters.removeAll { $0.revision <= newRevision }
        for waiter in ready { waiter.continuation.resume() }
    }

    private func restartAfterCompaction() async {
        for (_, w) in watchers { w.continuation.finish() }
        watchers.removeAll()
        window.removeAll()
        windowStart = 0
        guard let (objects, at) = try? await load() else { return }
        state = CurrentState(objects)
        revision = at
        oldest = at
        advance(to: at)
    }

    // MARK: serving

    /// Reads the mirror once it holds every change up to `revision` (this process's last write:
    /// a client reads what it wrote), or a bounded time has passed.
    func read<T: Sendable>(after needed: Int64, _ body: (CurrentState, Int64) -> T) async -> T {
        // The write's own event is on its way: no need to ask etcd how far the watch is.
        if needed > revision { await catchUp(to: needed, askingProgress: false) }
        return body(state, revision)
    }

    /// Events under `prefix` after `requested` (nil: from now), first with every current key as
    /// ADDED when `initialState`.
    func subscribe(prefix: String, after asked: Int64?, initialState: Bool) async throws(StorageError) -> StorageWatch {
        let requested = initialState ? revision : (asked ?? revision)
        if requested > revision { await catchUp(to: requested) }
        if requested > revision { throw .futureRevision(requested: requested, current: revision) }
        if requested < oldest { throw .compacted(requested: requested, compacted: oldest) }
        let (stream, continuation) = AsyncStream<StorageEvent>.makeStream(bufferingPolicy: .unbounded)
        let initial = initialState ? state.page(prefix: prefix, startAfter: nil, limit: nil).objects : []
        for o in initial { continuation.yield(StorageEvent(kind: .added, revision: o.revision, object: o, previous: nil)) }
        for event in window[windowStart...] where event.revision > requested && event.object.key.hasPrefix(prefix) {
            continuation.yield(event)
        }
        let id = nextWatcherID
        nextWatcherID += 1
        watchers[id] = Watcher(prefix: prefix, continuation: continuation)
        continuation.onTermination = { [weak self] _ in
            Task { await self?.removeWatcher(id) }
        }
        return StorageWatch(events: stream, startRevision: requested, initialEvents: initial.count, cancel: { continuation.finish() })
    }

    /// Waits (a bounded time) for the cache to reach a revision another server or a list has
    /// seen, asking etcd for a progress notification so that changes outside the prefix count too.
    func catchUp(to target: Int64, askingProgress: Bool = true) async {
        guard target > revision else { return }
        if askingProgress {
            var request = Etcdserverpb_WatchRequest()
            request.requestUnion = .progressRequest(Etcdserverpb_WatchProgressRequest())
            progress?.yield(request)
        }
        let timer = Task {
            try? await Task.sleep(for: Self.catchUpTimeout)
            self.timeOut(target)
        }
        await withCheckedContinuation { continuation in
            waiters.append((target, continuation))
        }
        timer.cancel()
    }

    private func timeOut(_ target: Int64) {
        let late = waiters.filter { $0.revision == target }
        waiters.removeAll { $0.revision == target }
        for waiter in late { waiter.continuation.resume() }
    }

    private func removeWatcher(_ id: Int) { watchers.removeValue(forKey: id) }

    func stop() {
        pump?.cancel()
        progress?.finish()
        for (_, w) in watchers { w.continuation.finish() }
        watchers.removeAll()
        for waiter in waiters { waiter.continuation.resume() }
        waiters.removeAll()
    }
}
