import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import GRPCTransport

/// One gRPC client to an etcd cluster: every member as a target, calls spread round-robin over the
/// members that answer, so one member going away moves its calls to the others.
final class EtcdConnection: Sendable {
    let kv: Etcdserverpb_KV.Client<RotatingTransport>
    let watch: Etcdserverpb_Watch.Client<RotatingTransport>
    let client: GRPCClient<RotatingTransport>
    let connections: Task<Void, Never>
    let timeout: Duration

    init(_ configuration: EtcdConfiguration) throws(StorageError) {
        let endpoints = configuration.endpoints
        _ = try Self.target(endpoints)
        let security = Self.security(configuration)
        var config = HTTP2ClientTransport.Posix.Config.defaults
        // A page of objects can be large; etcd itself sends up to 2 GiB.
        config.http2.maxFrameSize = 1 << 20
        do {
            let transport = try RotatingTransport(callsPerConnection: 100) { [config] in
                try HTTP2ClientTransport.Posix(target: try Self.target(endpoints), transportSecurity: security, config: config, serviceConfig: Self.serviceConfig)
            }
            client = GRPCClient(transport: transport)
        } catch {
            throw .io("cannot set up a connection to etcd: \(error)")
        }
        let client = self.client
        connections = Task { try? await client.runConnections() }
        kv = Etcdserverpb_KV.Client(wrapping: client)
        watch = Etcdserverpb_Watch.Client(wrapping: client)
        timeout = configuration.requestTimeout
    }

    /// Calls that read are retried on another member when theirs is unavailable; writes are not
    /// (etcd may have applied one whose answer was lost).
    static let serviceConfig: ServiceConfig = {
        let retry = RetryPolicy(maxAttempts: 3, initialBackoff: .milliseconds(20), maxBackoff: .milliseconds(500), backoffMultiplier: 4,
                                retryableStatusCodes: [.unavailable])
        let reads: [MethodConfig.Name] = [.init(service: "etcdserverpb.KV", method: "Range")]
        return ServiceConfig(methodConfig: [MethodConfig(names: reads, executionPolicy: .retry(retry))],
                             loadBalancingConfig: [.roundRobin])
    }()

    static func target(_ endpoints: [EtcdConfiguration.Endpoint]) throws(StorageError) -> any ResolvableTarget {
        let pairs = endpoints.map { (host: $0.host, port: $0.port) }
        if endpoints.allSatisfy({ $0.host.split(separator: ".").count == 4 && $0.host.allSatisfy({ $0.isNumber || $0 == "." }) }) {
            return ResolvableTargets.IPv4.ipv4(pairs: pairs)
        }
        if endpoints.allSatisfy({ $0.host.contains(":") }) {
            return ResolvableTargets.IPv6.ipv6(pairs: pairs.map { (host: $0.host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")), port: $0.port) })
        }
        if endpoints.count == 1, let one = endpoints.first { return ResolvableTargets.DNS.dns(host: one.host, port: one.port) }
        throw .io("several etcd servers must be given by address (IPv4 or IPv6), not by name")
    }

    static func security(_ configuration: EtcdConfiguration) -> HTTP2ClientTransport.Posix.TransportSecurity {
        guard configuration.secure else { return .plaintext }
        return .tls { tls in
            if let ca = configuration.caFile { tls.trustRoots = .certificates([.file(path: ca, format: .pem)]) }
            if let cert = configuration.certFile, let key = configuration.keyFile {
                tls.certificateChain = [.file(path: cert, format: .pem)]
                tls.privateKey = .file(path: key, format: .pem)
            }
        }
    }

    var options: CallOptions {
        var options = CallOptions.defaults
        options.timeout = timeout
        return options
    }

    /// One call, its failure said as etcd says it (`etcdserver: request timed out`) or, when no
    /// member answered in time, as the timeout it is.
    func call<T: Sendable>(_ body: @Sendable (CallOptions) async throws -> T) async throws(StorageError) -> T {
        do {
            return try await body(options)
        } catch let error as RPCError {
            throw Self.storageError(error)
        } catch {
            throw .io("etcd: \(error)")
        }
    }

    static func storageError(_ error: RPCError) -> StorageError {
        switch error.code {
        case .deadlineExceeded:
            return .timeout("etcd did not answer within the request timeout")
        // etcd's own refusal, or gRPC's of a message past etcd's receive limit (upstream's
        // isTooLargeError takes both).
        case .invalidArgument where error.message == StorageError.requestTooLarge.description,
             .resourceExhausted where error.message.contains("message larger than max"):
            return .requestTooLarge
        default:
            return .io(error.message.isEmpty ? "etcd: \(error.code)" : error.message)
        }
    }

    func close() {
        client.beginGracefulShutdown()
        connections.cancel()
    }
}
