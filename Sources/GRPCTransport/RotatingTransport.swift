import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Synchronization

/// An HTTP/2 client transport that moves to a fresh connection after a number of calls.
///
/// grpc-go servers (containerd's, etcd's) send a bandwidth-estimation PING after most requests it
/// reads, and swift-nio-http2 closes a connection that receives more than 200 PING or SETTINGS
/// frames in 30 seconds, taking every call in flight with it ("Stream unexpectedly closed"). A
/// kubelet with a dozen probed pods makes that many calls, so a busy node lost its runtime
/// connection every half minute: probes failed together (services without endpoints) and a
/// StartContainer could fail; an etcd client writing thousands of objects a second would lose its
/// connection every few hundred writes. Neither side can be configured, so no connection carries more than
/// `callsPerConnection` calls; a retired one closes once its last call has finished.
public final class RotatingTransport: ClientTransport {
    public typealias Bytes = HTTP2ClientTransport.Posix.Bytes
    public typealias Inner = HTTP2ClientTransport.Posix

    struct Generation {
        let transport: Inner
        var calls = 0
        var active = 0
    }

    struct State {
        var generations: [Int: Generation] = [:]
        var current = 0
        var shutDown = false
    }

    let make: @Sendable () throws -> Inner
    let callsPerConnection: Int
    let state = Mutex(State())
    /// Transports to run: `connect()` runs each one until it has shut down.
    let started: AsyncStream<Inner>
    let start: AsyncStream<Inner>.Continuation

    public init(callsPerConnection: Int, make: @escaping @Sendable () throws -> Inner) throws {
        self.make = make
        self.callsPerConnection = callsPerConnection
        (started, start) = AsyncStream.makeStream()
        let first = try make()
        state.withLock { $0.generations[0] = Generation(transport: first) }
        start.yield(first)
    }

    public var retryThrottle: RetryThrottle? { nil }

    public func connect() async throws {
        await withDiscardingTaskGroup { group in
            for await transport in started {
                group.addTask { try? await transport.connect() }
            }
        }
    }

    public func beginGracefulShutdown() {
        let transports = state.withLock { s in
            s.shutDown = true
            return s.generations.values.map(\.transport)
        }
        start.finish()
        for transport in transports { transport.beginGracefulShutdown() }
    }

    public func withStream<T: Sendable>(
        descriptor: MethodDescriptor, options: CallOptions,
        _ closure: (_ stream: RPCStream<Inbound, Outbound>, _ context: ClientContext) async throws -> T
    ) async throws -> T {
        let (id, transport, retired) = try state.withLock { s throws -> (Int, Inner, Inner?) in
            var retired: Inner?
            if !s.shutDown, let current = s.generations[s.current], current.calls >= callsPerConnection {
                let next = try make()
                if current.active == 0 { retired = current.transport; s.generations[s.current] = nil }
                s.current += 1
                s.generations[s.current] = Generation(transport: next)
                start.yield(next)
            }
            s.generations[s.current]!.calls += 1
            s.generations[s.current]!.active += 1
            return (s.current, s.generations[s.current]!.transport, retired)
        }
        retired?.beginGracefulShutdown()
        defer { finished(id) }
        return try await transport.withStream(descriptor: descriptor, options: options, closure)
    }

    /// A call ended; a retired connection with no call left closes.
    func finished(_ id: Int) {
        let retired = state.withLock { s -> Inner? in
            s.generations[id]?.active -= 1
            guard id != s.current, let g = s.generations[id], g.active == 0 else { return nil }
            s.generations[id] = nil
            return g.transport
        }
        retired?.beginGracefulShutdown()
    }

    public func config(forMethod descriptor: MethodDescriptor) -> MethodConfig? {
        state.withLock { $0.generations[$0.current]?.transport }?.config(forMethod: descriptor)
    }
}
