import Logging
import NIOCore
import NIOPosix
import Synchronization

/// Asks the upstream resolvers what the cluster zone does not know, as CoreDNS's forward plugin:
/// over UDP from one socket per address family (replies matched by upstream, random id and
/// question), again over TCP when a reply comes back truncated, each upstream in turn (twice)
/// until one answers, within `timeout` in all. Answers go through `ForwardCache`.
final class Forwarder: Sendable {
    let upstreams: [SocketAddress]
    let cache: ForwardCache
    let timeout: Duration
    private let group: any EventLoopGroup
    private let pending = PendingExchanges()
    private let sockets = Mutex<[Channel]>([])

    init(upstreams: [SocketAddress], cache: ForwardCache = ForwardCache(), timeout: Duration = .seconds(2),
         group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.upstreams = upstreams
        self.cache = cache
        self.timeout = timeout
        self.group = group
    }

    /// Binds the client sockets, one for each address family the upstreams use.
    func start() async throws {
        var families: [String] = []
        if upstreams.contains(where: { if case .v4 = $0 { true } else { false } }) { families.append("0.0.0.0") }
        if upstreams.contains(where: { if case .v6 = $0 { true } else { false } }) { families.append("::") }
        var bound: [Channel] = []
        for host in families {
            let pending = pending
            let channel = try await DatagramBootstrap(group: group)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(UpstreamReplyHandler(pending: pending))
                    }
                }
                .bind(host: host, port: 0).get()
            bound.append(channel)
        }
        sockets.withLock { $0 = bound }
    }

    func stop() async {
        for channel in sockets.withLock({ s in defer { s = [] }; return s }) { try? await channel.close() }
        pending.failAll()
    }

    /// A cached answer, if there is one: served on the event loop without a task.
    func cached(_ question: DNSQuestion, dnssecOK: Bool = false, checkingDisabled: Bool = false) -> DNSMessage? {
        cache.get(Self.cacheKey(question, dnssecOK: dnssecOK, checkingDisabled: checkingDisabled))
    }

    static func cacheKey(_ question: DNSQuestion, dnssecOK: Bool, checkingDisabled: Bool) -> ForwardCache.Key {
        ForwardCache.Key(name: question.name.lowercased(), type: question.type, qclass: question.qclass,
                         dnssecOK: dnssecOK, checkingDisabled: checkingDisabled)
    }

    /// The upstreams' answer to `question` (from the cache when it holds one), or nil when none
    /// answered in time. `cached` says which.
    func resolve(_ question: DNSQuestion, dnssecOK: Bool = false, checkingDisabled: Bool = false) async -> (message: DNSMessage?, cached: Bool) {
        let key = Self.cacheKey(question, dnssecOK: dnssecOK, checkingDisabled: checkingDisabled)
        if let hit = cache.get(key) { return (hit, true) }
        var query = DNSMessage(recursionDesired: true, checkingDisabled: checkingDisabled)
        query.questions = [question]
        query.edns = EDNS(udpPayloadSize: QueryResponder.advertisedPayloadSize, dnssecOK: dnssecOK)
        let deadline = ContinuousClock.now + timeout
        var fallback: DNSMessage?
        // Each upstream in turn, then each once more: a lost datagram costs a share of the time,
        // not the whole of it.
        let attempts = upstreams.count * 2
        for attempt in 0..<attempts {
            let upstream = upstreams[attempt % upstreams.count]
            let remaining = deadline - .now
            guard remaining > .zero else { break }
            let budget = remaining / (attempts - attempt)
            guard var reply = await exchangeUDP(query, with: upstream, timeout: budget) else { continue }
            if reply.truncated {
                guard let full = await exchangeTCP(query, with: upstream, timeout: max(budget, deadline - .now)) else { continue }
                reply = full
            }
            // An upstream that cannot answer is not the last word while another may.
            if reply.rcode == RCode.serverFailure || reply.rcode == RCode.refused {
                fallback = reply
                continue
            }
            return (cache.put(key, reply), false)
        }
        return (fallback, false)
    }

    private func socket(for upstream: SocketAddress) -> Channel? {
        sockets.withLock { sockets in
            sockets.first { channel in
                switch (channel.localAddress, upstream) {
                case (.v4?, .v4), (.v6?, .v6): true
                default: false
                }
            }
        }
    }

    func exchangeUDP(_ query: DNSMessage, with upstream: SocketAddress, timeout: Duration) async -> DNSMessage? {
        guard let channel = socket(for: upstream), let question = query.questions.first else { return nil }
        let pending = pending
        return await withCheckedContinuation { continuation in
            guard let id = pending.add(upstream: upstream, question: question, continuation) else {
                continuation.resume(returning: nil)
                return
            }
            var query = query
            query.id = id
            let key = PendingExchanges.Key(upstream: upstream, id: id)
            let envelope = AddressedEnvelope(remoteAddress: upstream, data: ByteBuffer(bytes: MessageEncoder.encodeWhole(query)))
            channel.writeAndFlush(envelope).whenFailure { _ in pending.complete(key, with: nil) }
            channel.eventLoop.scheduleTask(in: .nanoseconds(timeout.nanoseconds)) { pending.complete(key, with: nil) }
        }
    }

    func exchangeTCP(_ query: DNSMessage, with upstream: SocketAddress, timeout: Duration) async -> DNSMessage? {
        guard let question = query.questions.first else { return nil }
        var query = query
        query.id = UInt16.random(in: .min ... .max)
        let loop = group.next()
        let reply = loop.makePromise(of: ByteBuffer.self)
        let limit = TimeAmount.nanoseconds(timeout.nanoseconds)
        let timer = loop.scheduleTask(in: limit) { reply.fail(ChannelError.connectTimeout(limit)) }
        defer { timer.cancel() }
        do {
            let channel = try await ClientBootstrap(group: loop)
                .connectTimeout(limit)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(DNSFrameDecoder()))
                        try channel.pipeline.syncOperations.addHandler(TCPReplyHandler(reply: reply))
                    }
                }
                .connect(to: upstream).get()
            defer { channel.close(promise: nil) }
            channel.writeAndFlush(DNSFrameDecoder.frame(MessageEncoder.encodeWhole(query)), promise: nil)
            let frame = try await reply.futureResult.get()
            let message = try MessageDecoder.decode(Array(frame.readableBytesView))
            guard message.isResponse, message.id == query.id, message.questions.first.map({ PendingExchanges.same($0, question) }) == true
            else { return nil }
            return message
        } catch {
            reply.fail(error)
            return nil
        }
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

/// UDP queries awaiting their replies, by upstream and id. Whoever removes an entry (the reply,
/// the timeout, a failed write) resumes its waiter, so each is resumed exactly once.
final class PendingExchanges: Sendable {
    struct Key: Hashable, Sendable {
        var upstream: SocketAddress
        var id: UInt16
    }

    private struct Waiter: Sendable {
        var question: DNSQuestion
        var continuation: CheckedContinuation<DNSMessage?, Never>
    }

    private let waiting = Mutex<[Key: Waiter]>([:])

    /// Files a waiter under a random id not in use for that upstream; nil when all are.
    func add(upstream: SocketAddress, question: DNSQuestion, _ continuation: CheckedContinuation<DNSMessage?, Never>) -> UInt16? {
        waiting.withLock { waiting in
            for _ in 0..<64 {
                let id = UInt16.random(in: .min ... .max)
                let key = Key(upstream: upstream, id: id)
                if waiting[key] == nil {
                    waiting[key] = Waiter(question: question, continuation: continuation)
                    return id
                }
            }
            return nil
        }
    }

    func complete(_ key: Key, with message: DNSMessage?) {
        waiting.withLock { $0.removeValue(forKey: key) }?.continuation.resume(returning: message)
    }

    /// A datagram from an upstream: the reply its waiter wants only if it answers the same
    /// question (an id alone is easy to guess).
    func deliver(_ bytes: [UInt8], from upstream: SocketAddress) {
        guard let message = try? MessageDecoder.decode(bytes), message.isResponse, let question = message.questions.first else { return }
        let key = Key(upstream: upstream, id: message.id)
        let waiter: Waiter? = waiting.withLock { waiting in
            guard let waiter = waiting[key], Self.same(waiter.question, question) else { return nil }
            waiting[key] = nil
            return waiter
        }
        waiter?.continuation.resume(returning: message)
    }

    func failAll() {
        for waiter in waiting.withLock({ w in defer { w = [:] }; return Array(w.values) }) {
            waiter.continuation.resume(returning: nil)
        }
    }

    static func same(_ a: DNSQuestion, _ b: DNSQuestion) -> Bool {
        a.type == b.type && a.qclass == b.qclass && a.name.equalsIgnoringCase(b.name)
    }
}

/// Hands datagrams from upstreams to their waiters.
private final class UpstreamReplyHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let pending: PendingExchanges

    init(pending: PendingExchanges) { self.pending = pending }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        pending.deliver(Array(envelope.data.readableBytesView), from: envelope.remoteAddress)
    }

    // An ICMP unreachable surfaces as an error on the socket: the timeout answers that waiter.
    func errorCaught(context: ChannelHandlerContext, error: Error) {}
}

/// The first framed reply on a TCP connection to an upstream.
private final class TCPReplyHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let reply: EventLoopPromise<ByteBuffer>

    init(reply: EventLoopPromise<ByteBuffer>) { self.reply = reply }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        reply.succeed(unwrapInboundIn(data))
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        reply.fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        reply.fail(ChannelError.eof)
    }
}
