import Foundation

/// One event of a watch as the API sends it. Unfiltered events keep the stored bytes, so a watch
/// with many watchers does not parse and re-serialize each object once per watcher.
public struct WatchEvent: Sendable {
    public enum Payload: Sendable {
        case json(JSON)
        case serialized(Data)
    }

    public var type: String
    public var payload: Payload

    public init(type: String, object: JSON) { self.type = type; self.payload = .json(object) }
    public init(type: String, serialized: Data, decoded: JSON? = nil) {
        self.type = type
        self.payload = .serialized(serialized)
        self.decoded = decoded
    }

    /// The tree of a serialized payload, when the registry still had it from the write.
    var decoded: JSON?

    public var object: JSON {
        switch payload {
        case .json(let j): return j
        case .serialized(let d): return decoded ?? (try? JSON.parse(d)) ?? .null
        }
    }
}
