import APIMachinery
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdHTTP2
import Logging
import NIOCore
import NIOSSL
import Registry
import ServiceLifecycle

/// The HTTPS endpoint: HTTP/1.1 and HTTP/2 (ALPN) over TLS, serving the registry; HTTP/1.1
/// connections upgrade to WebSocket or SPDY for exec, attach and port-forward.
public struct APIServer: Sendable {
    public struct Configuration: Sendable {
        public var bindAddress: String
        /// More addresses to serve on, with the same port (the cluster bridge's, for pods).
        public var additionalBindAddresses: [String] = []
        public var port: Int
        public var certificatePEM: [UInt8]
        public var privateKeyPEM: [UInt8]
        /// Static bearer tokens and basic-auth passwords, each mapped to its user.
        public var tokens: StaticCredentials
        public var passwords: StaticCredentials
        /// The CA client certificates must be signed by; none: no certificate authentication.
        public var clientCAPEM: [UInt8]?
        /// The key service-account tokens are signed with; none: no service-account tokens.
        public var serviceAccountKeyPEM: String?
        public var version: String
        /// Requests in flight and request timeouts, as kube-apiserver's flags set them.
        public var limits = ServingLimits()
        /// What `POST /cubby/v1/restore` does; none: the path is not served.
        public var snapshotRestore: SnapshotRestore?

        public init(bindAddress: String, port: Int, certificatePEM: [UInt8], privateKeyPEM: [UInt8], tokens: StaticCredentials,
                    passwords: StaticCredentials = .init(), clientCAPEM: [UInt8]? = nil, serviceAccountKeyPEM: String? = nil, version: String) {
            self.passwords = passwords
            self.clientCAPEM = clientCAPEM
            self.serviceAccountKeyPEM = serviceAccountKeyPEM
            self.bindAddress = bindAddress
            self.port = port
            self.certificatePEM = certificatePEM
            self.privateKeyPEM = privateKeyPEM
            self.tokens = tokens
            self.version = version
        }
    }

    let registry: Registry
    let configuration: Configuration
    let logger: Logger
    /// What each new connection is served with; a renewed certificate replaces it here.
    public let tls: ServingTLS

    public init(registry: Registry, configuration: Configuration, logger: Logger) throws {
        self.registry = registry
        self.configuration = configuration
        self.logger = logger
        tls = try ServingTLS(certificatePEM: configuration.certificatePEM, privateKeyPEM: configuration.privateKeyPEM,
                             clientCAPEM: configuration.clientCAPEM)
    }

    /// The /version document; minor version tracks the kubectl it is tested with.
    static func versionInfo(_ v: String) -> JSON {
        #if arch(arm64)
        let arch = "arm64"
        #else
        let arch = "amd64"
        #endif
        #if os(macOS)
        let os = "darwin"
        #else
        let os = "linux"
        #endif
        return ["major": "1", "minor": "37", "gitVersion": .string("v1.37.0+cubby.\(v)"), "gitCommit": "", "gitTreeState": "clean",
                "buildDate": "", "goVersion": "swift", "compiler": "swift", "platform": .string("\(os)/\(arch)")]
    }

    /// Serves until SIGTERM or SIGINT. `onListening` runs once the socket accepts connections.
    public func run(onListening: @escaping @Sendable (Int) async -> Void) async throws {
        let address = "\(configuration.bindAddress):\(configuration.port)"
        let authorizer = RBACAuthorizer(registry: registry)
        registry.access.install(authorizer)
        let indexing = Task { await authorizer.index.run() }
        defer { indexing.cancel() }
        let serviceAccountTokens = try configuration.serviceAccountKeyPEM.map(ServiceAccountTokens.init(privateKeyPEM:))
        let handler = APIHandler(
            registry: registry,
            discovery: Discovery(catalog: registry.catalog, serverAddress: address),
            openAPI: OpenAPI(catalog: registry.catalog, version: "v1.37.0"),
            authenticator: Authenticator(
                tokens: configuration.tokens, passwords: configuration.passwords,
                serviceAccountTokens: serviceAccountTokens, registry: registry),
            authorizer: authorizer,
            impersonation: Impersonation(authorizer: authorizer),
            version: Self.versionInfo(configuration.version),
            inFlight: InFlightLimit(configuration.limits),
            snapshotRestore: configuration.snapshotRestore,
            issuerDiscovery: serviceAccountTokens.map { ServiceAccountIssuerDiscovery(tokens: $0, jwksURI: "https://\(address)\(ServiceAccountIssuerDiscovery.keysPath)") })
        let addresses = [configuration.bindAddress] + configuration.additionalBindAddresses
        let apps = addresses.enumerated().map { index, address in
            Application(
                responder: handler,
                server: HTTPServerBuilder { [tls] responder in
                    StreamingHTTPChannel(tls: tls, responder: responder, gate: handler.streamTarget)
                },
                configuration: .init(address: .hostname(address, port: configuration.port), serverName: nil),
                onServerRunning: { channel in if index == 0 { await onListening(channel.localAddress?.port ?? configuration.port) } },
                logger: logger)
        }
        do {
            if apps.count == 1 {
                try await apps[0].runService(gracefulShutdownSignals: [.sigterm, .sigint])
            } else {
                let group = ServiceGroup(configuration: .init(services: apps.map { .init(service: $0) },
                                                              gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
                try await group.run()
            }
        } catch let error as IOError where error.errnoCode == EADDRINUSE {
            throw PortInUse(port: configuration.port, addresses: addresses)
        }
    }

    /// The port is another process's (taken since `cubby start` looked, or given by hand).
    public struct PortInUse: Error, CustomStringConvertible {
        public var port: Int
        public var addresses: [String]
        public var description: String {
            "port \(port) is already in use (on \(addresses.joined(separator: ", "))); stop what holds it or choose another with --port"
        }
    }
}
