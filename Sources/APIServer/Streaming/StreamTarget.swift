import APIMachinery
import Registry

/// Where an exec, attach or port-forward goes and what it carries: the node's streaming URL and
/// the streams the client asked for.
struct StreamTarget: Sendable {
    enum Kind: Sendable, Equatable {
        case remoteCommand(stdin: Bool, stdout: Bool, stderr: Bool, tty: Bool)
        /// `ports` from the query: the WebSocket channel protocol forwards these; SPDY clients
        /// name a port on each stream instead.
        case portForward(ports: [UInt16])
    }

    var kind: Kind
    var url: String
    /// For an exec with stdin and no terminal: the node runs the command itself, as the runtime's
    /// streaming server would cut its stdin short. Used for WebSocket clients (every current
    /// one); a SPDY client is passed through to the URL.
    var runInContainer: (@Sendable (ProcessStreams) async throws(StatusError) -> Int32)?

    /// The WebSocket sub-protocols served, in the server's order of preference.
    var webSocketProtocols: [String] {
        switch kind {
        case .remoteCommand: [RemoteCommandProtocol.v5, RemoteCommandProtocol.v4]
        case .portForward: [PortForwardProtocol.spdyTunnel, RemoteCommandProtocol.v4, PortForwardProtocol.spdy]
        }
    }

    /// The SPDY sub-protocols passed through to the runtime's streaming server (what it speaks).
    var spdyProtocols: [String] {
        switch kind {
        case .remoteCommand: [RemoteCommandProtocol.v4, "v3.channel.k8s.io", "v2.channel.k8s.io", "channel.k8s.io"]
        case .portForward: [PortForwardProtocol.spdy]
        }
    }
}

enum RemoteCommandProtocol {
    static let v5 = "v5.channel.k8s.io"
    static let v4 = "v4.channel.k8s.io"
}

enum PortForwardProtocol {
    static let spdy = "portforward.k8s.io"
    /// kubectl's port-forward over WebSocket: SPDY frames carried in binary messages.
    static let spdyTunnel = "SPDY/3.1+portforward.k8s.io"
}
