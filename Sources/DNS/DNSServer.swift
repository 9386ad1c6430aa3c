import Logging
import NIOCore
import NIOPosix
import Synchronization

/// DNS over UDP and TCP on one address. The zone's answers (and cached upstream answers) are
/// made right on the event loop, where they take microseconds; anything that must wait for an
/// upstream goes to a task, and its reply is written from there.
final class DNSServer: Sendable {
    let responder: QueryResponder
    let store: ClusterRecordStore
    /// nil: no upstreams (yet), so names outside the zone get SERVFAIL.
    private let upstream: Mutex<Forwarder?>
    let metrics: DNSMetrics
    let logger: Logger
    private let channels = Mutex<[Channel]>([])
    /// Queries waiting on an upstream. Past `maxInFlight` a new one is REFUSED at once, as
    /// CoreDNS's forward plugin does past `max_concurrent` (kubeadm's Corefile says 1000): a dead
    /// upstream under a flood must not pile up tasks without bound.
    private let inFlight = Atomic<Int>(0)
    static let maxInFlight = 1000

    init(responder: QueryResponder, store: ClusterRecordStore, forwarder: Forwarder?, metrics: DNSMetrics,
         logger: Logger = Logger(label: "cubby.dns")) {
        self.responder = responder
        self.store = store
        upstream = Mutex(forwarder)
        self.metrics = metrics
        self.logger = logger
    }

    /// Binds UDP, then TCP on the same port (with port 0, the port UDP got); returns the port.
    func start(host: String, port: Int, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> Int {
        var attempt = 0
        while true {
            attempt += 1
            let udp = try await DatagramBootstrap(group: group)
                .channelOption(.socketOption(.so_reuseaddr), value: 1)
                .channelOption(.maxMessagesPerRead, value: 16)
                .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 4096))
                .channelInitializer { [self] channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(DatagramHandler(server: self))
                    }
                }
                .bind(host: host, port: port).get()
            let bound = udp.localAddress?.port ?? port
            do {
                let tcp = try await ServerBootstrap(group: group)
                    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                    .childChannelInitializer { [self] channel in
                        channel.eventLoop.makeCompletedFuture {
                            // RFC 7766 6.2.3: idle connections are closed after a few seconds.
                            try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: .seconds(10)))
                            try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(DNSFrameDecoder()))
                            try channel.pipeline.syncOperations.addHandler(StreamHandler(server: self))
                        }
                    }
                    .bind(host: host, port: bound).get()
                channels.withLock { $0 = [udp, tcp] }
                return bound
            } catch {
                try? await udp.close()
                // An ephemeral UDP port may be taken for TCP: try another few.
                if port != 0 || attempt >= 8 { throw error }
            }
        }
    }

    /// Set once the bound port is known, so the upstreams can leave this server out.
    var forwarder: Forwarder? {
        get { upstream.withLock { $0 } }
        set { upstream.withLock { $0 = newValue } }
    }

    func stop() async {
        for channel in channels.withLock({ c in defer { c = [] }; return c }) { try? await channel.close() }
    }

    /// Answers one query; `send` gets the reply bytes, at once or later, or never for a packet
    /// not worth answering.
    func serve(_ bytes: [UInt8], transport: QueryResponder.Transport, family: DNSMetrics.Family,
               send: @escaping @Sendable ([UInt8]) -> Void) {
        metrics.request(type: MessageDecoder.questionType(bytes), transport: transport, family: family)
        switch responder.respond(to: bytes, transport: transport, records: store.snapshot) {
        case .drop:
            return
        case .reply(let reply, let rcode):
            metrics.response(rcode: rcode)
            send(reply)
        case .forward(let query, let limit):
            guard let forwarder = forwarder, let question = query.questions.first else {
                deliver(responder.finishForwarded(nil, query: query, limit: limit), send)
                return
            }
            let dnssecOK = query.edns?.dnssecOK ?? false
            if let hit = forwarder.cached(question, dnssecOK: dnssecOK, checkingDisabled: query.checkingDisabled) {
                metrics.cache(hit: true, denial: hit.answers.isEmpty)
                deliver(responder.finishForwarded(hit, query: query, limit: limit), send)
                return
            }
            guard reserve() else {
                deliver(responder.finish(reply: DNSMessage.reply(to: query, rcode: RCode.refused), query: query, limit: limit), send)
                return
            }
            Task { [responder, metrics, logger] in
                defer { self.release() }
                let (answer, cached) = await forwarder.resolve(question, dnssecOK: dnssecOK, checkingDisabled: query.checkingDisabled)
                metrics.cache(hit: cached, denial: answer?.answers.isEmpty ?? false)
                if answer == nil { logger.debug("no upstream answered \(question.name) \(question.type)") }
                self.deliver(responder.finishForwarded(answer, query: query, limit: limit), send)
            }
        case .chase(let reply, let chase, let query, let limit):
            guard let forwarder = forwarder else {
                deliver(responder.finishChase(reply: reply, upstream: nil, query: query, limit: limit), send)
                return
            }
            if let hit = forwarder.cached(DNSQuestion(name: chase.name, type: chase.type)) {
                metrics.cache(hit: true, denial: hit.answers.isEmpty)
                deliver(responder.finishChase(reply: reply, upstream: hit, query: query, limit: limit), send)
                return
            }
            guard reserve() else {
                deliver(responder.finishChase(reply: reply, upstream: nil, query: query, limit: limit), send)
                return
            }
            Task { [responder, metrics] in
                defer { self.release() }
                let (answer, cached) = await forwarder.resolve(DNSQuestion(name: chase.name, type: chase.type))
                metrics.cache(hit: cached, denial: answer?.answers.isEmpty ?? false)
                self.deliver(responder.finishChase(reply: reply, upstream: answer, query: query, limit: limit), send)
            }
        }
    }

    private func reserve() -> Bool {
        if inFlight.add(1, ordering: .relaxed).newValue <= Self.maxInFlight { return true }
        release()
        return false
    }

    private func release() { inFlight.subtract(1, ordering: .relaxed) }

    private func deliver(_ outcome: QueryResponder.Outcome, _ send: @Sendable ([UInt8]) -> Void) {
        guard case .reply(let bytes, let rcode) = outcome else { return }
        metrics.response(rcode: rcode)
        send(bytes)
    }
}

/// Queries over UDP: one datagram, one reply to its sender.
private final class DatagramHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>
    let server: DNSServer

    init(server: DNSServer) { self.server = server }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        let remote = envelope.remoteAddress
        let channel = context.channel
        server.serve(Array(envelope.data.readableBytesView), transport: .udp, family: remote.protocol == .inet6 ? .ipv6 : .ipv4) { reply in
            channel.writeAndFlush(AddressedEnvelope(remoteAddress: remote, data: ByteBuffer(bytes: reply)), promise: nil)
        }
    }

    // A client gone away (ICMP unreachable) is no reason to stop serving the others.
    func errorCaught(context: ChannelHandlerContext, error: Error) {}
}

/// Queries over TCP: length-framed messages, possibly pipelined; replies go as they are ready.
private final class StreamHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let server: DNSServer

    init(server: DNSServer) { self.server = server }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        let channel = context.channel
        let family: DNSMetrics.Family = channel.remoteAddress?.protocol == .inet6 ? .ipv6 : .ipv4
        server.serve(Array(frame.readableBytesView), transport: .tcp, family: family) { reply in
            channel.writeAndFlush(DNSFrameDecoder.frame(reply), promise: nil)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent { context.close(promise: nil) } else { context.fireUserInboundEventTriggered(event) }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
