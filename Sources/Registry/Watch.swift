import APIMachinery
import Foundation
import Resources
import Storage
import Synchronization

extension Registry {
    /// How often an idle watch that asked for bookmarks gets one.
    static let bookmarkInterval: Duration = .seconds(30)

    /// A watch as upstream serves it: from a resourceVersion (events after it), or with the current
    /// state first (no resourceVersion, "0", or sendInitialEvents), filtered by selectors, with
    /// bookmarks when asked and an ERROR event when the history it needs is compacted.
    /// How many events past its initial state a watcher may fall behind before it is closed.
    public static let watchWindow = 100

    public func watch(_ def: ResourceDefinition, namespace: String?, options: ListOptions,
                      onOverflow: (@Sendable () -> Void)? = nil) async throws(StatusError) -> AsyncStream<WatchEvent> {
        guard def.verbs.contains("watch") else { throw .methodNotAllowed() }
        let filter = try ObjectFilter(def, options)
        let rv = options.resourceVersion ?? ""
        var initial = rv.isEmpty || rv == "0"
        var after: Int64?
        if let send = options.sendInitialEvents {
            if send && options.resourceVersionMatch != "NotOlderThan" {
                throw .invalid(kind: "ListOptions", group: "meta.k8s.io", name: "", [.forbidden("resourceVersionMatch", "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan")])
            }
            if send && !options.allowWatchBookmarks {
                throw .invalid(kind: "ListOptions", group: "meta.k8s.io", name: "", [.forbidden("allowWatchBookmarks", "sendInitialEvents requires setting allowWatchBookmarks to true")])
            }
            initial = send
        }
        if !initial, !rv.isEmpty, rv != "0" {
            guard let n = Int64(rv) else { throw .badRequest("invalid resource version: \(rv)") }
            after = n
        }
        let storageWatch: StorageWatch
        do {
            storageWatch = try await store.watch(prefix: prefix(def, namespace), after: after, initialState: initial)
        } catch {
            if case .compacted(let requested, let compacted) = error {
                let (stream, out) = AsyncStream<WatchEvent>.makeStream()
                out.yield(WatchEvent(type: "ERROR", object: StatusError.expired("too old resource version: \(requested) (\(compacted))").status))
                out.finish()
                return stream
            }
            throw Self.status(error, def, "")
        }
        // A client's watch (one that says what to do on overflow) is bounded, so a client that
        // stops reading costs a window of events, not every event since: past it the watch ends
        // (upstream's cacher: "Forcing watcher close due to unresponsiveness"). The initial state
        // and its bookmark fit whole. This process's own informers read as fast as events come
        // and keep the whole stream: ending theirs would only make them list again under load.
        let (stream, out) = AsyncStream<WatchEvent>.makeStream(
            bufferingPolicy: onOverflow == nil ? .unbounded : .bufferingOldest(storageWatch.initialEvents + Self.watchWindow + 2))
        let overflow = { @Sendable in
            onOverflow?()
            out.finish()
        }
        @Sendable func send(_ event: WatchEvent) {
            if case .dropped = out.yield(event) { overflow() }
        }
        let sendInitialEnd = options.sendInitialEvents == true
        let bookmarks = options.allowWatchBookmarks
        let lastRevision = RevisionMark(storageWatch.startRevision)
        let apiVersion = def.apiVersion, kind = def.kind

        let isClientWatch = onOverflow != nil
        let pump = Task {
            var remainingInitial = storageWatch.initialEvents
            if remainingInitial == 0 && sendInitialEnd {
                send(Self.bookmark(apiVersion, kind, storageWatch.startRevision, initialEnd: true))
            }
            for await event in storageWatch.events {
                if let e = self.watchEvent(event, filter, def) { send(e) }
                lastRevision.advance(to: event.revision)
                if remainingInitial > 0 {
                    remainingInitial -= 1
                    if remainingInitial == 0 && sendInitialEnd {
                        send(Self.bookmark(apiVersion, kind, storageWatch.startRevision, initialEnd: true))
                    }
                }
            }
            // A restore replaced what this watch followed: 410 Gone, as upstream's watchers
            // learn that etcd compacted past them; the client lists again.
            if case .compacted(_, let compacted)? = storageWatch.endReason() {
                send(WatchEvent(type: "ERROR", object: StatusError.expired("too old resource version: \(lastRevision.value) (\(compacted))").status))
            }
            out.finish()
            // What a client's watch queued is free now (its storage watch has ended); many
            // ending together (clients gone, stalled ones closed) would otherwise leave the
            // process at its peak size.
            if isClientWatch { FreeMemory.trimSoon() }
        }
        let timeout = Double(options.timeoutSeconds.flatMap { $0 > 0 ? $0 : nil } ?? Int.random(in: 1800...3600))
        let timer = Task {
            let deadline = ContinuousClock.now + .seconds(timeout)
            while !Task.isCancelled {
                let next = ContinuousClock.now + Self.bookmarkInterval
                try? await Task.sleep(until: min(next, deadline))
                if Task.isCancelled { return }
                if ContinuousClock.now >= deadline { out.finish(); return }
                if bookmarks { send(Self.bookmark(apiVersion, kind, lastRevision.value, initialEnd: false)) }
            }
        }
        out.onTermination = { _ in
            pump.cancel()
            timer.cancel()
            storageWatch.cancel()
        }
        return stream
    }

    static func bookmark(_ apiVersion: String, _ kind: String, _ revision: Int64, initialEnd: Bool) -> WatchEvent {
        var meta: JSON = ["resourceVersion": .string(String(revision))]
        if initialEnd { meta["annotations"] = ["k8s.io/initial-events-end": "true"] }
        return WatchEvent(type: "BOOKMARK", object: ["apiVersion": .string(apiVersion), "kind": .string(kind), "metadata": meta])
    }

    /// A storage event as a filtered watcher sees it: an object leaving the selection is DELETED
    /// for it, one entering is ADDED.
    func watchEvent(_ event: StorageEvent, _ filter: ObjectFilter, _ def: ResourceDefinition) -> WatchEvent? {
        if !filter.active && event.kind != .deleted && def.storedAs == nil {
            return WatchEvent(type: event.kind.rawValue, serialized: event.object.value,
                              decoded: decoded.object(key: event.object.key, revision: event.object.revision))
        }
        guard var obj = try? decode(event.object, as: def) else { return nil }
        if event.kind == .deleted { obj["metadata"]["resourceVersion"] = .string(String(event.revision)) }
        guard filter.active else { return WatchEvent(type: event.kind.rawValue, object: obj) }
        let now = filter.matches(obj)
        switch event.kind {
        case .added, .deleted:
            return now ? WatchEvent(type: event.kind.rawValue, object: obj) : nil
        case .modified:
            let before = event.previous.flatMap { try? decode($0, as: def) }.map(filter.matches) ?? false
            switch (before, now) {
            case (true, true): return WatchEvent(type: "MODIFIED", object: obj)
            case (false, true): return WatchEvent(type: "ADDED", object: obj)
            case (true, false): return WatchEvent(type: "DELETED", object: obj)
            case (false, false): return nil
            }
        }
    }
}

/// The newest revision a watch has passed on, shared by its pump and its bookmark timer.
final class RevisionMark: Sendable {
    private let revision: Mutex<Int64>
    init(_ start: Int64) { revision = Mutex(start) }
    var value: Int64 { revision.withLock { $0 } }
    func advance(to r: Int64) { revision.withLock { $0 = max($0, r) } }
}
