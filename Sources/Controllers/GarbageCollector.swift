import APIMachinery
import Client
import Foundation
import Resources
import Synchronization

/// Deletes objects whose owners are gone, as upstream's garbage collector: it keeps a graph of
/// every object and its ownerReferences from one watch over all resources, and
///  - deletes a dependent once none of its owners exists any more (background propagation),
///  - for an owner deleted in the foreground (`foregroundDeletion` finalizer) deletes its
///    dependents first and lets the owner go when none is left,
///  - for an owner deleted with orphan propagation (`orphan` finalizer) removes the owner's
///    references from its dependents, then lets it go;
/// references to owners that do not exist are dropped from dependents that still have others.
public struct GarbageCollector: Controller {
    public let name = "garbagecollector"
    public let queue = WorkQueue()
    let client: Client
    let state = State()

    /// The graph and whether its initial state is in, shared by the watch and the workers.
    final class State: Sendable {
        let graph = Mutex(Graph())
        let synced = Mutex(false)
    }

    struct OwnerRef {
        var uid: String
        var apiVersion: String
        var kind: String
        var name: String
        var blocks: Bool
    }

    struct Node {
        /// Where the object is served. Not its whole ResourceDefinition: a graph of every object
        /// in the cluster would carry a copy of that large struct per object.
        var group: String, version: String, plural: String
        var namespace: String?
        var name: String
        var owners: [OwnerRef]
        var deleting: Bool
        var finalizers: [String]
    }

    struct Graph {
        var nodes: [String: Node] = [:]
        var dependents: [String: Set<String>] = [:]
    }

    public init(client: Client) { self.client = client }

    public func register() async {
        // The graph follows its own watch; workers start once the initial state is in.
        let (ready, signal) = AsyncStream<Void>.makeStream()
        Task {
            while !Task.isCancelled {
                guard let watch = try? await client.watchCluster() else {
                    try? await Task.sleep(for: .seconds(1))
                    continue
                }
                // Each watch starts from the whole state (after a restore, another one): the graph
                // is built again, with owners it lacks meanwhile looked up in the store.
                state.graph.withLock { $0 = Graph() }
                var initial = watch.initialEvents
                if initial == 0 { signal.yield() }
                for await event in watch.events {
                    observe(event.type, event.definition, event.object)
                    if initial > 0 {
                        initial -= 1
                        if initial == 0 { signal.yield() }
                    }
                }
            }
        }
        for await _ in ready { break }
        state.synced.withLock { $0 = true }
        // Whatever was left dangling while nothing watched.
        for uid in state.graph.withLock({ Array($0.nodes.keys) }) { queue.add("d:" + uid) }
    }

    func observe(_ type: String, _ definition: ResourceDefinition, _ o: JSON) {
        let meta = o["metadata"]
        guard let uid = meta["uid"].string else { return }
        var enqueue: [String] = []
        state.graph.withLock { g in
            if let old = g.nodes[uid] {
                for ref in old.owners { g.dependents[ref.uid]?.remove(uid) }
            }
            if type == "DELETED" {
                let old = g.nodes.removeValue(forKey: uid)
                enqueue += (g.dependents[uid] ?? []).map { "d:" + $0 }
                for ref in old?.owners ?? [] where g.nodes[ref.uid]?.deleting == true { enqueue.append("f:" + ref.uid) }
                return
            }
            let owners = (meta["ownerReferences"].array ?? []).compactMap { r -> OwnerRef? in
                guard let ouid = r["uid"].string else { return nil }
                return OwnerRef(uid: ouid, apiVersion: r["apiVersion"].string ?? "", kind: r["kind"].string ?? "",
                                name: r["name"].string ?? "", blocks: r["blockOwnerDeletion"].bool == true)
            }
            let finalizers = (meta["finalizers"].array ?? []).compactMap(\.string)
            let node = Node(group: definition.group, version: definition.version, plural: definition.plural, namespace: meta["namespace"].string, name: meta["name"].string ?? "",
                            owners: owners, deleting: !meta["deletionTimestamp"].isNull, finalizers: finalizers)
            g.nodes[uid] = node
            for ref in owners { g.dependents[ref.uid, default: []].insert(uid) }
            if owners.contains(where: { g.nodes[$0.uid] == nil || g.nodes[$0.uid]!.deleting }) { enqueue.append("d:" + uid) }
            if node.deleting && finalizers.contains("foregroundDeletion") { enqueue.append("f:" + uid) }
            if node.deleting && finalizers.contains("orphan") { enqueue.append("o:" + uid) }
        }
        if state.synced.withLock({ $0 }) || enqueue.contains(where: { !$0.hasPrefix("d:") }) {
            for key in enqueue { queue.add(key) }
        }
    }

    public func reconcile(_ key: String) async throws {
        let uid = String(key.dropFirst(2))
        switch key.prefix(2) {
        case "d:": try await attemptToDelete(uid)
        case "f:": try await deleteDependentsFirst(uid)
        case "o:": try await orphanDependents(uid)
        default: return
        }
    }

    enum OwnerState { case solid, dangling, waitingForDependents }

    func ownerState(_ ref: OwnerRef, namespace: String?) async -> OwnerState {
        if let node = state.graph.withLock({ $0.nodes[ref.uid] }) {
            return node.deleting && node.finalizers.contains("foregroundDeletion") ? .waitingForDependents : .solid
        }
        // The graph may lag a creation: ask the store before calling an owner gone.
        guard let gv = GroupVersion(apiVersion: ref.apiVersion),
              let def = client.definition(group: gv.group, version: gv.version, kind: ref.kind),
              let owner = try? await client.resource(def.group, def.version, def.plural).get(def.namespaced ? namespace : nil, ref.name),
              owner["metadata"]["uid"].string == ref.uid else { return .dangling }
        return .solid
    }

    func attemptToDelete(_ uid: String) async throws {
        guard let node = state.graph.withLock({ $0.nodes[uid] }), !node.owners.isEmpty, !node.deleting else { return }
        var states: [(OwnerRef, OwnerState)] = []
        for ref in node.owners { states.append((ref, await ownerState(ref, namespace: node.namespace))) }
        if states.contains(where: { $0.1 == .solid }) {
            let dangling = Set(states.filter { $0.1 == .dangling }.map(\.0.uid))
            guard !dangling.isEmpty else { return }
            try await resource(node).modify(node.namespace, node.name) { o in
                Self.setOwners(&o, (o["metadata"]["ownerReferences"].array ?? []).filter { !dangling.contains($0["uid"].string ?? "") })
            }
            return
        }
        let waiting = states.contains { $0.1 == .waitingForDependents && $0.0.blocks }
        let hasDependents = state.graph.withLock { !($0.dependents[uid] ?? []).isEmpty }
        try await delete(uid, node, foreground: waiting && hasDependents)
    }

    func deleteDependentsFirst(_ uid: String) async throws {
        guard let node = state.graph.withLock({ $0.nodes[uid] }), node.deleting, node.finalizers.contains("foregroundDeletion") else { return }
        let dependents = state.graph.withLock { g in (g.dependents[uid] ?? []).compactMap { d in g.nodes[d].map { (d, $0) } } }
        if dependents.isEmpty {
            try await removeFinalizer("foregroundDeletion", node)
            return
        }
        for (duid, dependent) in dependents where !dependent.deleting {
            let hasOwn = state.graph.withLock { !($0.dependents[duid] ?? []).isEmpty }
            // A dependent with other living owners stays; attemptToDelete decides.
            queue.add("d:" + duid)
            if dependent.owners.count == 1 { try await delete(duid, dependent, foreground: hasOwn) }
        }
    }

    func orphanDependents(_ uid: String) async throws {
        guard let node = state.graph.withLock({ $0.nodes[uid] }), node.deleting, node.finalizers.contains("orphan") else { return }
        let dependents = state.graph.withLock { g in (g.dependents[uid] ?? []).compactMap { g.nodes[$0] } }
        for dependent in dependents {
            do throws(StatusError) {
                try await resource(dependent).modify(dependent.namespace, dependent.name) { o in
                    Self.setOwners(&o, (o["metadata"]["ownerReferences"].array ?? []).filter { $0["uid"].string != uid })
                }
            } catch {
                if error.code != 404 { throw error }
            }
        }
        try await removeFinalizer("orphan", node)
    }

    func delete(_ uid: String, _ node: Node, foreground: Bool) async throws {
        var options = DeleteOptions()
        options.preconditionUID = uid
        options.propagationPolicy = foreground ? "Foreground" : "Background"
        do throws(StatusError) { try await resource(node).delete(node.namespace, node.name, options: options) } catch {
            if error.code != 404 && error.code != 409 { throw error }
        }
    }

    func removeFinalizer(_ finalizer: String, _ node: Node) async throws {
        do throws(StatusError) {
            try await resource(node).modify(node.namespace, node.name) { o in
                o["metadata"]["finalizers"] = .array((o["metadata"]["finalizers"].array ?? []).filter { $0.string != finalizer })
            }
        } catch {
            if error.code != 404 { throw error }
        }
    }

    /// No references left means no field, as upstream's omitempty has it.
    static func setOwners(_ o: inout JSON, _ refs: [JSON]) {
        o["metadata"]["ownerReferences"] = refs.isEmpty ? nil : .array(refs)
    }

    func resource(_ node: Node) -> ResourceClient {
        client.resource(node.group, node.version, node.plural)
    }
}
