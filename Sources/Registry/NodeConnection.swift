import APIMachinery
import Foundation
import Synchronization

/// What a pod's `log` subresource asks for (upstream's PodLogOptions).
public struct PodLogOptions: Sendable, Equatable {
    public var container: String
    public var follow = false
    public var previous = false
    public var sinceSeconds: Int?
    public var sinceTime: Date?
    public var timestamps = false
    public var tailLines: Int?
    public var limitBytes: Int?

    public init(container: String) { self.container = container }
}

/// The API server's way to a node's agent for what only the node has (upstream's kubelet
/// connection, which pod log, exec and port-forward go through). The agent of a node registers
/// itself here; the API layer finds it by the pod's node name.
public protocol NodeConnection: Sendable {
    /// A container's log as the kubelet serves it: the lines as written, shaped by the options;
    /// with `follow`, more as they come until the container ends.
    func containerLog(pod: JSON, options: PodLogOptions) async throws(StatusError) -> AsyncThrowingStream<[UInt8], any Error>
}

/// The node agents' connections, by node name.
public final class NodeConnections: Sendable {
    let connections = Mutex<[String: any NodeConnection]>([:])

    public init() {}

    public func register(_ connection: any NodeConnection, for nodes: [String]) {
        connections.withLock { all in for node in nodes { all[node] = connection } }
    }

    public func connection(for node: String) -> (any NodeConnection)? {
        connections.withLock { $0[node] }
    }
}
