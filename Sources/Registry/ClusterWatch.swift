import APIMachinery
import Foundation
import Resources
import Storage

/// Every object of every resource, as one stream: first the current state (`initialEvents` of
/// them), then each change. What the garbage collector builds its owner graph from, the way
/// upstream's collector watches every resource that can have owners.
public struct ClusterWatch: Sendable {
    public struct Event: Sendable {
        public var type: String
        public var definition: ResourceDefinition
        public var object: JSON
    }

    public let events: AsyncStream<Event>
    public let initialEvents: Int
}

extension Registry {
    public func watchCluster() async throws(StatusError) -> ClusterWatch {
        let storageWatch: StorageWatch
        do { storageWatch = try await store.watch(prefix: Self.storageRoot, after: nil, initialState: true) } catch {
            throw .internalError("\(error)")
        }
        let catalog = self.catalog, decoded = self.decoded
        let (stream, out) = AsyncStream<ClusterWatch.Event>.makeStream(bufferingPolicy: .unbounded)
        let pump = Task {
            var generation = -1
            var byPrefix: [String: ResourceDefinition] = [:]
            for await event in storageWatch.events {
                if catalog.generation != generation {
                    generation = catalog.generation
                    byPrefix = Self.definitionsByStoragePrefix(catalog)
                }
                guard let def = Self.definition(forKey: event.object.key, in: byPrefix),
                      let object = decoded.object(key: event.object.key, revision: event.object.revision)
                        ?? (try? JSON.parse(event.object.value)) else { continue }
                out.yield(.init(type: event.kind.rawValue, definition: def, object: object))
            }
            out.finish()
        }
        out.onTermination = { _ in
            pump.cancel()
            storageWatch.cancel()
        }
        return ClusterWatch(events: stream, initialEvents: storageWatch.initialEvents)
    }

    /// Each resource by the prefix of its keys (its stored version's, when several versions share one).
    static func definitionsByStoragePrefix(_ catalog: ResourceCatalog) -> [String: ResourceDefinition] {
        var table: [String: ResourceDefinition] = [:]
        for def in catalog.all where def.storedAs == nil || table[storagePrefix(def)] == nil {
            table[storagePrefix(def)] = def
        }
        return table
    }

    /// The resource a key belongs to. Paths are one segment or two (`services/specs`, a group and
    /// a plural), so the longer is tried first.
    static func definition(forKey key: String, in table: [String: ResourceDefinition]) -> ResourceDefinition? {
        let parts = key.dropFirst(storageRoot.count).split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false)
        if parts.count == 3, let def = table[storageRoot + parts[0] + "/" + parts[1] + "/"] { return def }
        return parts.count >= 2 ? table[storageRoot + parts[0] + "/"] : nil
    }
}
