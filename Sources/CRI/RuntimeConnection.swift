import GRPCCore
import GRPCNIOTransportHTTP2Posix
import GRPCTransport

/// One gRPC connection to a CRI runtime over its unix socket, with the two services the kubelet
/// calls: RuntimeService (sandboxes, containers, exec) and ImageService (pull, list, remove).
public final class RuntimeConnection: Sendable {
    public typealias Transport = RotatingTransport

    public let runtime: Runtime_V1_RuntimeService.Client<Transport>
    public let images: Runtime_V1_ImageService.Client<Transport>
    let client: GRPCClient<Transport>
    let connections: Task<Void, Never>

    public init(socketPath: String) throws {
        var config = HTTP2ClientTransport.Posix.Config.defaults
        // A node's list of containers and images can exceed gRPC's 4 MiB default; containerd
        // itself allows 16 MiB.
        config.http2.maxFrameSize = 1 << 20
        // 100 calls stay well under the 200 PINGs a connection may receive (see RotatingTransport).
        let transport = try RotatingTransport(callsPerConnection: 100) { [config] in
            try HTTP2ClientTransport.Posix(target: .unixDomainSocket(path: socketPath),
                                           transportSecurity: .plaintext, config: config, serviceConfig: Self.serviceConfig)
        }
        let client = GRPCClient(transport: transport)
        self.client = client
        connections = Task { try? await client.runConnections() }
        runtime = Runtime_V1_RuntimeService.Client(wrapping: client)
        images = Runtime_V1_ImageService.Client(wrapping: client)
    }

    /// Calls that change nothing are retried when the connection drops under them (containerd
    /// may still close one, when it restarts; the next call reconnects): reads, and the streaming
    /// calls, which only hand out a URL.
    static let serviceConfig: ServiceConfig = {
        let reads = ["ListPodSandbox", "PodSandboxStatus", "ListContainers", "ContainerStatus", "ContainerStats", "ListContainerStats",
                     "Exec", "Attach", "PortForward", "Version", "Status"]
        let retry = RetryPolicy(maxAttempts: 3, initialBackoff: .milliseconds(20), maxBackoff: .milliseconds(500), backoffMultiplier: 4,
                                retryableStatusCodes: [.unavailable])
        return ServiceConfig(methodConfig: [MethodConfig(names: reads.map { .init(service: "runtime.v1.RuntimeService", method: $0) },
                                                         executionPolicy: .retry(retry))])
    }()

    /// Lets calls in flight finish, then closes the connection.
    public func close() {
        client.beginGracefulShutdown()
    }

    deinit {
        client.beginGracefulShutdown()
        connections.cancel()
    }
}
