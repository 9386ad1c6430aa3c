import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Registry

/// The API server's HTTPS client for admission webhooks: one connection per call (HTTP/1.1,
/// TLS verified against the configuration's caBundle, else the system's roots, for the name the
/// target must carry), the whole call within the webhook's timeout. Failures read as Go's client
/// words them, since they end up in the error kubectl prints.
public struct AdmissionWebhookClient: AdmissionWebhookTransport {
    public init() {}

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    public func post(_ target: WebhookTarget, body: [UInt8], timeout: Duration) async throws -> [UInt8] {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let bundle = target.caBundle {
            do { tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(bundle)) } catch {
                throw Failure(description: "tls: failed to parse the caBundle")
            }
        }
        let context = try NIOSSLContext(configuration: tls)
        let group = MultiThreadedEventLoopGroup.singleton
        let promise = group.next().makePromise(of: (HTTPResponseStatus, [UInt8]).self)
        // The whole call, connection to answer, within the timeout (Go's context deadline).
        let limit = TimeAmount.nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000)
        let deadline = group.next().scheduleTask(in: limit) { promise.fail(Failure(description: "context deadline exceeded")) }
        defer { deadline.cancel() }
        let channel: Channel
        do {
            channel = try await ClientBootstrap(group: group)
                .connectTimeout(limit)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        // SNI carries a host name, never an address; verification checks either.
                        let sni = target.serverName.allSatisfy { $0.isNumber || $0 == "." || $0 == ":" } ? nil : target.serverName
                        let handler = try NIOSSLClientHandler(context: context, serverHostname: sni)
                        try channel.pipeline.syncOperations.addHandler(handler)
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        try channel.pipeline.syncOperations.addHandler(ResponseCollector(promise: promise))
                    }
                }
                .connect(host: target.host, port: target.port).get()
        } catch {
            promise.fail(error)
            throw Failure(description: "dial tcp \(target.host):\(target.port): \(Self.describe(error))")
        }
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: "\(target.serverName):\(target.port)")
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Accept", value: "application/json, */*")
        headers.add(name: "Content-Length", value: String(body.count))
        headers.add(name: "Connection", value: "close")
        channel.write(HTTPClientRequestPart.head(HTTPRequestHead(version: .http1_1, method: .POST, uri: target.path, headers: headers)), promise: nil)
        channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(bytes: body))), promise: nil)
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        defer { channel.close(promise: nil) }
        let (status, answer): (HTTPResponseStatus, [UInt8])
        do { (status, answer) = try await promise.futureResult.get() } catch let failure as Failure { throw failure } catch {
            throw Failure(description: Self.describe(error))
        }
        guard (200..<300).contains(status.code) else {
            throw Failure(description: "the server responded with the status code \(status.code) but did not return more information")
        }
        return answer
    }

    /// Go's words for the usual failures.
    static func describe(_ error: any Error) -> String {
        if let error = error as? NIOSSLError, case .handshakeFailed = error {
            return "tls: failed to verify certificate: x509: certificate signed by unknown authority"
        }
        if error is NIOSSLExtraError { return "tls: failed to verify certificate: x509: certificate is valid for other names" }
        if let error = error as? IOError, error.errnoCode == ECONNREFUSED { return "connect: connection refused" }
        if let error = error as? NIOConnectionError, let first = error.connectionErrors.first?.error {
            if let io = first as? IOError, io.errnoCode == ECONNREFUSED { return "connect: connection refused" }
            return "connect: \(first)"
        }
        if case ChannelError.connectTimeout = error { return "i/o timeout" }
        if case ChannelError.eof = error { return "EOF" }
        return "\(error)"
    }

    private final class ResponseCollector: ChannelInboundHandler {
        typealias InboundIn = HTTPClientResponsePart
        let promise: EventLoopPromise<(HTTPResponseStatus, [UInt8])>
        var status: HTTPResponseStatus?
        var body: [UInt8] = []

        init(promise: EventLoopPromise<(HTTPResponseStatus, [UInt8])>) { self.promise = promise }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head): status = head.status
            case .body(let buffer): body += buffer.readableBytesView
            case .end: if let status { promise.succeed((status, body)) }
            }
        }

        func errorCaught(context: ChannelHandlerContext, error: Error) {
            promise.fail(error)
            context.close(promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) { promise.fail(ChannelError.eof) }
        func handlerRemoved(context: ChannelHandlerContext) { promise.fail(ChannelError.ioOnClosedChannel) }
    }
}
