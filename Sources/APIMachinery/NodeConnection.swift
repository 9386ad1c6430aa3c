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

/// A stream into a pod the API server asks a node for: upstream's PodExecOptions,
/// PodAttachOptions and port-forward, checked already.
public enum StreamRequest: Sendable, Equatable {
    case exec(container: String, command: [String], stdin: Bool, stdout: Bool, stderr: Bool, tty: Bool)
    case attach(container: String, stdin: Bool, stdout: Bool, stderr: Bool, tty: Bool)
    case portForward

    public var container: String? {
        switch self {
        case .exec(let c, _, _, _, _, _), .attach(let c, _, _, _, _): c
        case .portForward: nil
        }
    }
}

/// The API server's way to a node's agent for what only the node has (upstream's kubelet
/// connection, which pod log, exec and port-forward go through). The agent of a node registers
/// itself here; the API layer finds it by the pod's node name.
public protocol NodeConnection: Sendable {
    /// A container's log as the kubelet serves it: the lines as written, shaped by the options;
    /// with `follow`, more as they come until the container ends.
    func containerLog(pod: JSON, options: PodLogOptions) async throws(StatusError) -> AsyncThrowingStream<[UInt8], any Error>
    /// What the node's containers and the node itself use, as metrics-server reports it: rates
    /// over the last sampling window. Empty where there is nothing to measure.
    func usage() async -> [NodeUsage]
    /// Where the stream is served: the runtime's streaming server URL (CRI Exec, Attach,
    /// PortForward), which speaks SPDY as the kubelet's own streaming server does.
    func streamURL(pod: JSON, request: StreamRequest) async throws(StatusError) -> String
    /// Runs an exec's command with the streams given and answers its exit code: for what the
    /// runtime's streaming server cannot carry faithfully (see the kubelet's ContainerExec).
    func run(inContainer pod: JSON, request: StreamRequest, streams: ProcessStreams) async throws(StatusError) -> Int32
}

/// A command's standard streams, from the API server's side: stdin as it arrives (its end is
/// the command's EOF), and where stdout (1) and stderr (2) go.
public struct ProcessStreams: Sendable {
    public var stdin: AsyncStream<[UInt8]>
    public var output: @Sendable (_ stream: UInt8, _ bytes: [UInt8]) async throws -> Void

    public init(stdin: AsyncStream<[UInt8]>, output: @escaping @Sendable (_ stream: UInt8, _ bytes: [UInt8]) async throws -> Void) {
        self.stdin = stdin
        self.output = output
    }
}

/// CPU (nanocores: billionths of a core, averaged over the window) and memory (working set bytes).
public struct ResourceUsage: Sendable, Equatable {
    public var cpuNanoCores: UInt64
    public var memoryBytes: UInt64

    public init(cpuNanoCores: UInt64, memoryBytes: UInt64) {
        self.cpuNanoCores = cpuNanoCores
        self.memoryBytes = memoryBytes
    }
}

/// One node's usage and its pods', measured at `timestamp` over `window` seconds.
public struct NodeUsage: Sendable {
    public struct Pod: Sendable {
        public var namespace: String
        public var name: String
        public var containers: [(name: String, usage: ResourceUsage)]

        public init(namespace: String, name: String, containers: [(name: String, usage: ResourceUsage)]) {
            self.namespace = namespace
            self.name = name
            self.containers = containers
        }
    }

    public var node: String
    public var timestamp: Date
    public var window: Double
    public var usage: ResourceUsage
    public var pods: [Pod]

    public init(node: String, timestamp: Date, window: Double, usage: ResourceUsage, pods: [Pod]) {
        self.node = node
        self.timestamp = timestamp
        self.window = window
        self.usage = usage
        self.pods = pods
    }
}

/// The node agents' connections, by node name.
public final class NodeConnections: Sendable {
    let connections = Mutex<(byNode: [String: any NodeConnection], agents: [any NodeConnection])>(([:], []))

    public init() {}

    public func register(_ connection: any NodeConnection, for nodes: [String]) {
        connections.withLock { all in
            for node in nodes { all.byNode[node] = connection }
            all.agents.append(connection)
        }
    }

    public func connection(for node: String) -> (any NodeConnection)? {
        connections.withLock { $0.byNode[node] }
    }

    /// Every node's usage (each agent asked once, however many nodes it runs).
    public func usage() async -> [NodeUsage] {
        let agents = connections.withLock { $0.agents }
        var all: [NodeUsage] = []
        for agent in agents { all += await agent.usage() }
        return all
    }
}
