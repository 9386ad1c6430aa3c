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
        let root = "/registry/"
        let storageWatch: StorageWatch
        do { storageWatch = try await store.watch(prefix: root, after: nil, initialState: true) } catch {
            throw .internalError("\(error)")
        }
        let catalog = self.catalog, decoded = self.decoded
        let (stream, out) = AsyncStream<ClusterWatch.Event>.makeStream(bufferingPolicy: .unbounded)
        let pump = Task {
            for await event in storageWatch.events {
                // /registry/GROUP/PLURAL/...: "core" is the legacy group.
                let parts = event.object.key.dropFirst(root.count).split(separator: "/", maxSplits: 2)
                guard parts.count == 3 else { continue }
                let group = parts[0] == "core" ? "" : String(parts[0])
                guard let def = catalog.all.first(where: { $0.group == group && $0.plural == parts[1] }),
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
}
