import APIMachinery
import Synchronization
import Registry

/// A list + watch cache of one resource, as client-go's shared informer: it lists, then follows
/// the watch from the list's revision (listing again if the watch ends), keeps every object by
/// key, indexed by controlling owner, and tells its handlers what changed. Handlers run on the
/// informer, in order, and should only enqueue keys.
public actor Informer {
    public enum Event: Sendable {
        case added(JSON)
        case updated(old: JSON, new: JSON)
        case deleted(JSON)

        public var object: JSON {
            switch self {
            case .added(let o), .deleted(let o), .updated(_, let o): return o
            }
        }
    }

    public typealias Handler = @Sendable (Event) -> Void

    let resource: ResourceClient
    var objects: [String: JSON] = [:]
    /// Keys of the objects each controller (by uid) owns: a controller with thousands of pods
    /// reads its own without scanning everyone's.
    var controlled: [String: Set<String>] = [:]
    var handlers: [Handler] = []
    var synced = false
    var syncWaiters: [CheckedContinuation<Void, Never>] = []

    public init(_ resource: ResourceClient) { self.resource = resource }

    /// `namespace/name`, or `name` for cluster-scoped objects: the key work queues carry.
    public static func key(_ object: JSON) -> String {
        let meta = object["metadata"]
        let name = meta["name"].string ?? ""
        if let ns = meta["namespace"].string, !ns.isEmpty { return "\(ns)/\(name)" }
        return name
    }

    public static func split(_ key: String) -> (namespace: String?, name: String) {
        guard let slash = key.firstIndex(of: "/") else { return (nil, key) }
        return (String(key[..<slash]), String(key[key.index(after: slash)...]))
    }

    /// Adds a handler; it hears about every object already cached as an add.
    public func addHandler(_ handler: @escaping Handler) {
        handlers.append(handler)
        for object in objects.values { handler(.added(object)) }
    }

    public func get(_ key: String) -> JSON? { objects[key] }

    public func list(namespace: String? = nil, where predicate: (JSON) -> Bool = { _ in true }) -> [JSON] {
        objects.values.filter { o in
            (namespace == nil || o["metadata"]["namespace"].string == namespace) && predicate(o)
        }
    }

    /// The objects whose controlling owner reference points at `owner` (by uid).
    public func list(controlledBy owner: JSON) -> [JSON] {
        guard let uid = owner["metadata"]["uid"].string else { return [] }
        return controlled[uid]?.compactMap { objects[$0] } ?? []
    }

    static func controllerUID(_ object: JSON) -> String? {
        object["metadata"]["ownerReferences"].array?.first { $0["controller"].bool == true }?["uid"].string
    }

    /// Stores (or with nil, removes) the object under `key`, keeping the owner index.
    func put(_ key: String, _ object: JSON?) {
        let old = objects[key]
        objects[key] = object
        let was = old.flatMap(Self.controllerUID), now = object.flatMap(Self.controllerUID)
        guard was != now else { return }
        if let was {
            controlled[was]?.remove(key)
            if controlled[was]?.isEmpty == true { controlled[was] = nil }
        }
        if let now { controlled[now, default: []].insert(key) }
    }

    public func waitForSync() async {
        if synced { return }
        await withCheckedContinuation { syncWaiters.append($0) }
    }

    public func run() async {
        while !Task.isCancelled {
            guard let list = try? await resource.list() else {
                try? await Task.sleep(for: .milliseconds(200))
                continue
            }
            replace(list.items)
            var options = ListOptions()
            options.resourceVersion = String(list.resourceVersion)
            guard let events = try? await resource.watch(options: options) else { continue }
            for await event in events {
                apply(event)
            }
        }
    }

    func replace(_ items: [JSON]) {
        var fresh: [String: JSON] = [:]
        for item in items { fresh[Self.key(item)] = item }
        for (key, old) in objects where fresh[key] == nil {
            put(key, nil)
            notify(.deleted(old))
        }
        for (key, new) in fresh {
            let old = objects[key]
            put(key, new)
            if let old {
                if old["metadata"]["resourceVersion"] != new["metadata"]["resourceVersion"] { notify(.updated(old: old, new: new)) }
            } else {
                notify(.added(new))
            }
        }
        if !synced {
            synced = true
            for waiter in syncWaiters { waiter.resume() }
            syncWaiters = []
        }
    }

    func apply(_ event: WatchEvent) {
        let object = event.object
        let key = Self.key(object)
        switch event.type {
        case "ADDED", "MODIFIED":
            let old = objects[key]
            put(key, object)
            notify(old.map { .updated(old: $0, new: object) } ?? .added(object))
        case "DELETED":
            put(key, nil)
            notify(.deleted(object))
        default: break
        }
    }

    func notify(_ event: Event) {
        for handler in handlers { handler(event) }
    }
}

/// One informer per resource, shared by every controller that watches it.
public final class InformerFactory: Sendable {
    let client: Client
    let informers = Mutex<[String: Informer]>([:])

    public init(client: Client) { self.client = client }

    public func informer(_ group: String, _ version: String, _ plural: String) -> Informer {
        informers.withLock { all in
            let id = "\(group)/\(version)/\(plural)"
            if let existing = all[id] { return existing }
            let made = Informer(client.resource(group, version, plural))
            all[id] = made
            return made
        }
    }

    public var pods: Informer { informer("", "v1", "pods") }
    public var nodes: Informer { informer("", "v1", "nodes") }

    /// Runs every informer made so far until cancelled.
    public func start() -> [Task<Void, Never>] {
        informers.withLock { $0.values.map { informer in Task { await informer.run() } } }
    }
}
