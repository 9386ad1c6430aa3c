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
    /// Only the objects this selects are listed, watched and kept.
    let fieldSelector: FieldSelector
    var objects: [String: JSON] = [:]
    /// Keys of the objects each controller (by uid) owns, and per namespace those no controller
    /// owns: a controller with thousands of pods reads its own, and the orphans it might adopt,
    /// without scanning everyone's.
    var controlled: [String: Set<String>] = [:]
    var orphans: [String: Set<String>] = [:]
    var handlers: [Handler] = []
    var synced = false
    var syncWaiters: [CheckedContinuation<Void, Never>] = []

    public init(_ resource: ResourceClient, fieldSelector: FieldSelector = FieldSelector()) {
        self.resource = resource
        self.fieldSelector = fieldSelector
    }

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

    /// The objects of `namespace` that have no controlling owner.
    public func list(orphansIn namespace: String) -> [JSON] {
        orphans[namespace]?.compactMap { objects[$0] } ?? []
    }

    public static func controllerUID(_ object: JSON) -> String? {
        object["metadata"]["ownerReferences"].array?.first { $0["controller"].bool == true }?["uid"].string
    }

    /// Where the owner index files an object: under its controller's uid, or as an orphan of
    /// its namespace.
    enum Owner: Equatable {
        case controller(String)
        case orphan(namespace: String)
    }

    static func owner(_ object: JSON) -> Owner {
        controllerUID(object).map(Owner.controller) ?? .orphan(namespace: object["metadata"]["namespace"].string ?? "")
    }

    /// Stores (or with nil, removes) the object under `key`, keeping the owner index.
    func put(_ key: String, _ object: JSON?) {
        let old = objects[key]
        objects[key] = object
        let was = old.map(Self.owner), now = object.map(Self.owner)
        guard was != now else { return }
        switch was {
        case .controller(let uid): Self.remove(key, uid, from: &controlled)
        case .orphan(let ns): Self.remove(key, ns, from: &orphans)
        case nil: break
        }
        switch now {
        case .controller(let uid): controlled[uid, default: []].insert(key)
        case .orphan(let ns): orphans[ns, default: []].insert(key)
        case nil: break
        }
    }

    static func remove(_ key: String, _ bucket: String, from index: inout [String: Set<String>]) {
        index[bucket]?.remove(key)
        if index[bucket]?.isEmpty == true { index[bucket] = nil }
    }

    public func waitForSync() async {
        if synced { return }
        await withCheckedContinuation { syncWaiters.append($0) }
    }

    public func run() async {
        while !Task.isCancelled {
            var options = ListOptions()
            options.fieldSelector = fieldSelector
            guard let list = try? await resource.list(options: options) else {
                try? await Task.sleep(for: .milliseconds(200))
                continue
            }
            replace(list.items)
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

    /// The informer of a resource, or with `name`, one that keeps only the objects of that name
    /// (a controller that cares about one ConfigMap in each namespace need not hold them all).
    public func informer(_ group: String, _ version: String, _ plural: String, name: String? = nil) -> Informer {
        informers.withLock { all in
            let id = "\(group)/\(version)/\(plural)" + (name.map { "?metadata.name=\($0)" } ?? "")
            if let existing = all[id] { return existing }
            let selector = name.flatMap { try? FieldSelector.parse("metadata.name=\($0)") } ?? FieldSelector()
            let made = Informer(client.resource(group, version, plural), fieldSelector: selector)
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
