import APIMachinery
import Foundation
import Registry
import Resources

/// The in-process client controllers, the scheduler and node agents use (DESIGN rule 1): the same
/// registry calls the HTTP layer makes, so every write passes the same defaults, validation and
/// admission, without HTTP or TLS in between.
public struct Client: Sendable {
    /// The API layer, reached only through the client's calls: components above it (controllers,
    /// the scheduler, node agents) neither import nor hold the registry (DESIGN: arrows point down).
    let registry: Registry
    /// The manager recorded in managedFields for this component's writes.
    public let fieldManager: String

    public init(registry: Registry, fieldManager: String) {
        self.registry = registry
        self.fieldManager = fieldManager
    }

    public func resource(_ group: String, _ version: String, _ plural: String) -> ResourceClient {
        ResourceClient(client: self, group: group, version: version, plural: plural)
    }

    public var pods: ResourceClient { resource("", "v1", "pods") }
    public var nodes: ResourceClient { resource("", "v1", "nodes") }
    public var events: ResourceClient { resource("", "v1", "events") }

    public var writeOptions: WriteOptions { WriteOptions(fieldManager: fieldManager) }

    /// Every resource the API serves, built-in and custom, as discovery lists them.
    public var definitions: [ResourceDefinition] { registry.catalog.all }

    public func definition(group: String, version: String, kind: String) -> ResourceDefinition? {
        registry.catalog.lookup(group: group, version: version, kind: kind)
    }

    /// Every object of every resource as one stream, the current state first: what the garbage
    /// collector builds its owner graph from.
    public func watchCluster() async throws(StatusError) -> ClusterWatch {
        try await registry.watchCluster()
    }

    /// Binds a pod to a node through its binding subresource, as the scheduler does.
    /// What the node agents measured, as the resource metrics API (metrics.k8s.io) serves it.
    public func resourceUsage() async -> [NodeUsage] {
        await registry.nodes.usage()
    }

    public func bind(namespace: String, pod: String, to node: String) async throws(StatusError) -> JSON {
        try await registry.bind(try pods.definition(), namespace: namespace, name: pod, node: node, options: writeOptions)
    }
}

/// One resource's verbs. Objects are JSON trees; a missing resource type fails as the API would.
public struct ResourceClient: Sendable {
    public let client: Client
    public let group: String
    public let version: String
    public let plural: String

    var registry: Registry { client.registry }

    public func definition() throws(StatusError) -> ResourceDefinition {
        guard let def = registry.catalog.lookup(group: group, version: version, plural: plural) else { throw .notFoundPath() }
        return def
    }

    public func get(_ namespace: String?, _ name: String) async throws(StatusError) -> JSON {
        try await registry.get(try definition(), namespace: namespace, name: name)
    }

    public struct List: Sendable {
        public var items: [JSON]
        public var resourceVersion: Int64
    }

    public func list(_ namespace: String? = nil, options: ListOptions = ListOptions()) async throws(StatusError) -> List {
        let page = try await registry.list(try definition(), namespace: namespace, options: options)
        return List(items: page.items.compactMap { try? JSON.parse($0) }, resourceVersion: page.resourceVersion)
    }

    public func watch(_ namespace: String? = nil, options: ListOptions = ListOptions()) async throws(StatusError) -> AsyncStream<WatchEvent> {
        try await registry.watch(try definition(), namespace: namespace, options: options)
    }

    /// The object's scale subresource (autoscaling/v1 Scale).
    public func scale(_ namespace: String?, _ name: String) async throws(StatusError) -> JSON {
        try await registry.getScale(try definition(), namespace: namespace, name: name)
    }

    /// Sets spec.replicas through the scale subresource, as the autoscalers do.
    @discardableResult
    public func scale(_ namespace: String?, _ name: String, to replicas: Int64) async throws(StatusError) -> JSON {
        try await registry.updateScale(try definition(), namespace: namespace, name: name, body: ["spec": ["replicas": .int(replicas)]],
                                       options: client.writeOptions)
    }

    @discardableResult
    public func create(_ namespace: String?, _ object: JSON) async throws(StatusError) -> JSON {
        try await registry.create(try definition(), namespace: namespace, body: object, options: client.writeOptions)
    }

    @discardableResult
    public func update(_ namespace: String?, _ object: JSON) async throws(StatusError) -> JSON {
        try await registry.update(try definition(), namespace: namespace, name: object["metadata"]["name"].string ?? "",
                                  body: object, options: client.writeOptions).0
    }

    @discardableResult
    public func updateStatus(_ namespace: String?, _ object: JSON) async throws(StatusError) -> JSON {
        try await registry.update(try definition(), namespace: namespace, name: object["metadata"]["name"].string ?? "",
                                  body: object, subresource: .status, options: client.writeOptions).0
    }

    /// Reads the current object, changes it and writes it back, retrying on conflicts: the
    /// read-modify-write every controller does.
    @discardableResult
    public func modify(_ namespace: String?, _ name: String, status: Bool = false,
                       _ change: @escaping @Sendable (inout JSON) -> Void) async throws(StatusError) -> JSON {
        try await registry.patch(try definition(), namespace: namespace, name: name, subresource: status ? .status : nil,
                                 options: client.writeOptions) { current throws(StatusError) in
            var o = current
            change(&o)
            return o
        }
    }

    public func delete(_ namespace: String?, _ name: String, options: DeleteOptions = .init()) async throws(StatusError) {
        _ = try await registry.delete(try definition(), namespace: namespace, name: name, options: options)
    }

    /// Deletes every object of the namespace (all of them when nil), as `kubectl delete --all`.
    public func deleteCollection(_ namespace: String?, options: DeleteOptions = .init()) async throws(StatusError) {
        _ = try await registry.deleteCollection(try definition(), namespace: namespace, listOptions: ListOptions(), options: options)
    }
}
