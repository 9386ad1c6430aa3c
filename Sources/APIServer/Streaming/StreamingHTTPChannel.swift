import APIMachinery
import HTTPTypes
import HummingbirdCore
import HummingbirdHTTP2
import Logging
import NIOHTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypesHTTP1
import NIOSSL
import NIOTLS
import NIOWebSocket
import Synchronization

/// Hummingbird's HTTP/2-with-HTTP/1.1 server channel, plus what upstream's API server does on
/// HTTP/1.1 connections for exec, attach and port-forward: an upgrade to WebSocket (channel
/// protocols v5/v4, or SPDY tunnelled in WebSocket messages) or to SPDY/3.1. Clients open these
/// on a connection of their own, over HTTP/1.1 (kubectl, client-go, the Python client); other
/// requests take Hummingbird's path unchanged.
struct StreamingHTTPChannel: ServerChildChannel, HTTPChannelHandler {
    /// Decides an upgrade: authenticates and authorizes the request, checks it and finds where
    /// the node serves the stream. A refusal is answered as the Status it throws.
    typealias Gate = @Sendable (_ head: HTTPRequestHead, _ channel: any Channel) async throws(StatusError) -> StreamTarget

    enum Upgrade: Sendable {
        case http1(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
        case refused(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, StatusError)
        case webSocket(NIOAsyncChannel<WebSocketFrame, WebSocketFrame>, StreamTarget, protocol: String)
        case spdy(NIOAsyncChannel<ByteBuffer, ByteBuffer>, StreamTarget, protocol: String)
    }

    enum Negotiated: Sendable {
        case http1(EventLoopFuture<Upgrade>)
        case http2(HTTP2Channel.Value)
    }

    struct Value: ServerChildChannelValue {
        let negotiated: EventLoopFuture<Negotiated>
        let channel: any Channel
    }

    /// Upstream's secure serving closes a connection with no request in progress after 90 s.
    static let idleTimeout: Duration = .seconds(90)
    static let maxHeaderBytes = 1 << 20
    static let writeBufferWaterMark = ChannelOptions.Types.WriteBufferWaterMark(low: 2 * 1024, high: 4 * 1024)

    let tls: ServingTLS
    let http1Configuration: HTTP1Channel.Configuration
    let http2: HTTP2Channel
    let gate: Gate
    let responder: HTTPChannelHandler.Responder

    init(tls: ServingTLS, responder: @escaping HTTPChannelHandler.Responder, gate: @escaping Gate) {
        self.tls = tls
        http1Configuration = .init()
        http2 = HTTP2Channel(responder: responder, configuration: .init(idleTimeout: Self.idleTimeout))
        self.gate = gate
        self.responder = responder
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            // What waits in this process for a client's socket to take it stays small: a watch
            // whose client stops reading holds a few records here (each TLS record keeps a 16 KB
            // buffer while it waits), not 64 KB of them; the kernel's buffers absorb the rest.
            try channel.syncOptions?.setOption(ChannelOptions.writeBufferWaterMark, value: Self.writeBufferWaterMark)
            try channel.pipeline.syncOperations.addHandler(FirstRequestDeadline(), name: FirstRequestDeadline.name)
            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls.current))
            let alpn = NIOTypedApplicationProtocolNegotiationHandler<Negotiated> { result in
                switch result {
                case .negotiated("h2"):
                    FirstRequestDeadline.lift(on: channel)
                    return http2.setup(channel: channel, logger: logger).map { .http2($0) }
                case .negotiated("http/1.1"), .fallback:
                    return channel.eventLoop.makeCompletedFuture { .http1(try setupHTTP1(channel: channel, logger: logger)) }
                case .negotiated:
                    return channel.close().flatMapThrowing { throw ChannelError.inappropriateOperationForState }
                }
            }
            try channel.pipeline.syncOperations.addHandler(alpn)
            return Value(negotiated: alpn.protocolNegotiationResult, channel: channel)
        }
    }

    /// HTTP/1.1 with the two upgrades. The gate's answer travels from the upgrader's decision to
    /// the upgraded pipeline (or to the refusal) in a box of the connection's own.
    private func setupHTTP1(channel: any Channel, logger: Logger) throws -> EventLoopFuture<Upgrade> {
        let decision = UpgradeDecision()
        let gate = self.gate
        let webSocket = NIOTypedWebSocketServerUpgrader<Upgrade>(
            maxFrameSize: 1 << 24,
            shouldUpgrade: { channel, head in
                FirstRequestDeadline.lift(on: channel)
                let promise = channel.eventLoop.makePromise(of: HTTPHeaders?.self)
                promise.completeWithTask {
                    do throws(StatusError) {
                        let target = try await gate(head, channel)
                        let offered = head.headers[canonicalForm: "Sec-WebSocket-Protocol"].map(String.init)
                        guard let chosen = offered.first(where: target.webSocketProtocols.contains) else {
                            throw .badRequest("no supported WebSocket sub-protocol was requested; supported: \(target.webSocketProtocols.joined(separator: ", "))")
                        }
                        decision.set(.success((target, chosen)))
                        return ["Sec-WebSocket-Protocol": chosen]
                    } catch {
                        decision.set(.failure(error))
                        return nil
                    }
                }
                return promise.futureResult
            },
            upgradePipelineHandler: { channel, _ in
                channel.eventLoop.makeCompletedFuture {
                    guard case .success(let (target, chosen)) = decision.get() else { throw ChannelError.inappropriateOperationForState }
                    try channel.pipeline.syncOperations.addHandler(
                        NIOWebSocketFrameAggregator(minNonFinalFragmentSize: 0, maxAccumulatedFrameCount: 1 << 16, maxAccumulatedFrameSize: 1 << 24))
                    let ws = try NIOAsyncChannel<WebSocketFrame, WebSocketFrame>(
                        wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
                    return .webSocket(ws, target, protocol: chosen)
                }
            })
        let spdy = SPDYUpgrader(gate: gate, decision: decision)
        let configuration = NIOTypedHTTPServerUpgradeConfiguration<Upgrade>(
            upgraders: [webSocket, spdy],
            notUpgradingCompletionHandler: { channel in
                channel.eventLoop.makeCompletedFuture {
                    FirstRequestDeadline.lift(on: channel)
                    try channel.pipeline.syncOperations.addHandler(HTTP1ToHTTPServerCodec(secure: false))
                    try channel.pipeline.syncOperations.addHandler(HTTPConnectionStateHandler(idleTimeout: Self.idleTimeout, logger: logger))
                    let http = try NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>(
                        wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
                    if case .failure(let error) = decision.get() { return .refused(http, error) }
                    return .http1(http)
                }
            })
        var pipeline = NIOUpgradableHTTPServerPipelineConfiguration<Upgrade>(upgradeConfiguration: configuration)
        // Upstream's MaxHeaderBytes: 1 MiB of request line and headers, beyond it 431.
        pipeline.decoderConfiguration.maxHeaderListSize = Self.maxHeaderBytes
        pipeline.decoderConfiguration.maxHeaderFieldSize = Self.maxHeaderBytes
        pipeline.enablePipelining = false
        pipeline.enableErrorHandling = false
        pipeline.enableResponseHeaderValidation = false
        let upgrade = try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(configuration: pipeline)
        try channel.pipeline.syncOperations.addHandler(HeaderOverflowResponder())
        return upgrade
    }

    func handle(value: Value, logger: Logger) async {
        do {
            switch try await value.negotiated.get() {
            case .http2(let http2Value):
                await http2.handle(value: http2Value, logger: logger)
            case .http1(let upgrade):
                switch try await upgrade.get() {
                case .http1(let http):
                    await handleHTTP(asyncChannel: http, logger: logger)
                case .refused(let http, let error):
                    await Self.refuse(http, error)
                case .webSocket(let ws, let target, let chosen):
                    await StreamBridge(target: target, logger: logger).serve(webSocket: ws, protocol: chosen)
                case .spdy(let raw, let target, let chosen):
                    await StreamBridge(target: target, logger: logger).serve(spdy: raw, protocol: chosen)
                }
            }
        } catch {
            logger.debug("connection ended before its protocol was settled: \(error)")
        }
    }

    /// A refused upgrade gets the Status upstream would send, and the connection closes.
    static func refuse(_ http: NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, _ error: StatusError) async {
        let body = ByteBuffer(bytes: error.encoded)
        try? await http.executeThenClose { _, outbound in
            let head = HTTPResponse(status: .init(code: error.code), headerFields: [
                .contentType: "application/json", .contentLength: String(body.readableBytes), .connection: "close",
            ])
            try await outbound.write(contentsOf: [.head(head), .body(body), .end(nil)])
        }
    }
}

/// The gate's answer for one connection, from the upgrade decision to the pipeline it builds.
final class UpgradeDecision: Sendable {
    private let value = Mutex<Result<(StreamTarget, String), StatusError>?>(nil)

    func set(_ result: Result<(StreamTarget, String), StatusError>) { value.withLock { $0 = result } }
    func get() -> Result<(StreamTarget, String), StatusError>? { value.withLock { $0 } }
}

/// `Upgrade: SPDY/3.1`, as kubectl falls back to and older clients ask first. The sub-protocol
/// (X-Stream-Protocol-Version) is the first the client offers that the runtime's streaming
/// server speaks too, so the connection can be passed through as it is.
struct SPDYUpgrader: NIOTypedHTTPServerProtocolUpgrader {
    typealias UpgradeResult = StreamingHTTPChannel.Upgrade

    let gate: StreamingHTTPChannel.Gate
    let decision: UpgradeDecision
    let supportedProtocol = "SPDY/3.1"
    let requiredUpgradeHeaders: [String] = []

    func buildUpgradeResponse(channel: any Channel, upgradeRequest: HTTPRequestHead, initialResponseHeaders: HTTPHeaders) -> EventLoopFuture<HTTPHeaders> {
        FirstRequestDeadline.lift(on: channel)
        let promise = channel.eventLoop.makePromise(of: HTTPHeaders.self)
        let gate = self.gate, decision = self.decision
        promise.completeWithTask {
            do throws(StatusError) {
                let target = try await gate(upgradeRequest, channel)
                let offered = upgradeRequest.headers["X-Stream-Protocol-Version"]
                    .flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
                guard let chosen = offered.first(where: target.spdyProtocols.contains) else {
                    throw StatusError(code: 403, reason: "Forbidden",
                                      message: "unable to upgrade: unable to negotiate protocol: client supports \(offered), server supports \(target.spdyProtocols)")
                }
                decision.set(.success((target, chosen)))
                var headers = initialResponseHeaders
                headers.add(name: "X-Stream-Protocol-Version", value: chosen)
                return headers
            } catch {
                decision.set(.failure(error))
                throw error
            }
        }
        return promise.futureResult
    }

    func upgrade(channel: any Channel, upgradeRequest: HTTPRequestHead) -> EventLoopFuture<UpgradeResult> {
        channel.eventLoop.makeCompletedFuture {
            guard case .success(let (target, chosen)) = decision.get() else { throw ChannelError.inappropriateOperationForState }
            let raw = try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel,
                                                                 configuration: .init(isOutboundHalfClosureEnabled: true))
            return .spdy(raw, target, protocol: chosen)
        }
    }
}
