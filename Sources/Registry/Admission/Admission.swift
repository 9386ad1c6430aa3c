import APIMachinery
import Resources
import Synchronization

public enum AdmissionOperation: String, Sendable { case create = "CREATE", update = "UPDATE", delete = "DELETE" }

/// One write as the admission chain sees it (upstream's admission.Attributes): what is done to
/// which object, the object as it will be stored (mutating plugins change it), the object it
/// replaces, and the registry, for the lookups plugins make (quotas, limit ranges, accounts).
public struct AdmissionRequest: Sendable {
    public let operation: AdmissionOperation
    public internal(set) var def: ResourceDefinition
    public var object: JSON
    public internal(set) var old: JSON?
    /// nil for the object itself; status and scale writes pass through the chain too.
    public let subresource: Registry.Subresource?
    public let dryRun: Bool
    public let registry: Registry
    /// Who asked (nil for writes of no API request), and as which field manager.
    public var user: UserInfo?
    public var fieldManager: String?
    /// Objects the plugins of this request have read (a namespace is read by several of them).
    let reads = AdmissionReads()

    public var namespace: String { object["metadata"]["namespace"].string ?? old?["metadata"]["namespace"].string ?? "" }
    public var name: String {
        let meta = object["metadata"]
        return meta["name"].string.flatMap { $0.isEmpty ? nil : $0 } ?? meta["generateName"].string ?? ""
    }

    /// The same write made to `other`, an equivalent resource (another version of the same
    /// objects): what a webhook or policy whose rules name only that version sees.
    func converted(to other: ResourceDefinition) -> AdmissionRequest {
        var copy = self
        copy.def = other
        // A scale or a binding is the same object whichever version it is reached through.
        if subresource == nil || subresource == .status {
            copy.object = def.convert(object, to: other)
            copy.old = old.map { def.convert($0, to: other) }
        }
        return copy
    }

    /// Whether this is a write to the main resource `plural` of the core group (or of `group`).
    public func isResource(_ plural: String, group: String = "") -> Bool {
        def.group == group && def.plural == plural && subresource == nil
    }

    /// The object `name` of a v1 resource (core unless `group` says), read once per request
    /// whichever plugins ask.
    public func get(_ plural: String, group: String = "", namespace: String? = nil, name: String) async throws(StatusError) -> JSON {
        let key = "\(group)/\(plural)/\(namespace ?? "")/\(name)"
        if let known = reads.get(key) { return known }
        guard let def = registry.catalog.lookup(group: group, version: "v1", plural: plural) else { throw .notFoundPath() }
        let object = try await registry.get(def, namespace: namespace, name: name)
        reads.set(key, object)
        return object
    }

    /// Every object of a v1 resource in `namespace` (all of a cluster-scoped one), in name
    /// order, read once per request.
    public func list(_ plural: String, group: String = "", namespace: String? = nil) async throws(StatusError) -> [JSON] {
        let key = "\(group)/\(plural)/\(namespace ?? "")/"
        if let known = reads.get(key)?.array { return known }
        guard let def = registry.catalog.lookup(group: group, version: "v1", plural: plural) else { return [] }
        let objects = try await registry.list(def, namespace: namespace, options: ListOptions()).items.compactMap { try? JSON.parse($0) }
        reads.set(key, .array(objects))
        return objects
    }

    /// upstream's `pods "web" is forbidden: MESSAGE`.
    public func forbidden(_ message: String) -> StatusError {
        .forbidden(def.groupResource, name, message)
    }
}

/// A plugin of the admission chain (DESIGN: one write path): every write, from kubectl or from a
/// controller in this process, passes each plugin in upstream's order: first every mutating
/// phase (`admit`), then the object's own validation, then every validating phase (`validate`).
/// The chain is one list, `AdmissionChain.standard`.
public protocol AdmissionPlugin: Sendable {
    /// Mutating phase: fill in what the plugin owns (defaults, volumes, priorities).
    func admit(_ request: inout AdmissionRequest) async throws(StatusError)
    /// Validating phase: refuse what the cluster's policy does not allow (quotas, security).
    func validate(_ request: AdmissionRequest) async throws(StatusError)
    /// Gives back what `admit` took for an object that was not stored or is now deleted.
    func release(_ def: ResourceDefinition, object: JSON) async
}

extension AdmissionPlugin {
    public func admit(_ request: inout AdmissionRequest) async throws(StatusError) {}
    public func validate(_ request: AdmissionRequest) async throws(StatusError) {}
    public func release(_ def: ResourceDefinition, object: JSON) async {}
}

/// What one request's plugins have read, shared between its phases.
final class AdmissionReads: Sendable {
    let objects = Mutex<[String: JSON]>([:])
    func get(_ key: String) -> JSON? { objects.withLock { $0[key] } }
    func set(_ key: String, _ object: JSON) { objects.withLock { $0[key] = object } }
}
