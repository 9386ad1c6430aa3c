import NIOCore
import NIOHTTP1

/// Upstream's secure serving gives a new connection 32 s (`ReadHeaderTimeout`, covering the TLS
/// handshake too) to deliver its first request's headers; a client that sends them a byte at a
/// time is closed then, not kept for good. Later requests are bounded by the idle timeout: on
/// HTTP/1.1 Hummingbird's connection state handler, on HTTP/2 its connection manager (90 s
/// without a stream, from the connection's start).
final class FirstRequestDeadline: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    static let name = "cubby.first-request-deadline"
    static let readHeaderTimeout: TimeAmount = .seconds(32)

    private var timer: Scheduled<Void>?

    func handlerAdded(context: ChannelHandlerContext) {
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: Self.readHeaderTimeout) {
            context.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    /// The first request's head has arrived (or HTTP/2 took the connection over): the deadline
    /// is lifted. Called on the channel's event loop; a second call changes nothing.
    static func lift(on channel: any Channel) {
        channel.pipeline.syncOperations.removeHandler(name: name, promise: nil)
    }
}

/// A request whose line and headers pass upstream's `MaxHeaderBytes` (1 MiB) is answered as Go's
/// server answers it, 431 and the connection closed, rather than by a silent close.
final class HeaderOverflowResponder: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parserError = error as? HTTPParserError, parserError == .headerOverflow else {
            return context.fireErrorCaught(error)
        }
        let text = "431 Request Header Fields Too Large"
        let head = HTTPResponseHead(version: .http1_1, status: .requestHeaderFieldsTooLarge, headers: [
            "Content-Type": "text/plain; charset=utf-8", "Connection": "close", "Content-Length": String(text.utf8.count),
        ])
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
        // Closed once the answer is written; the handler runs on the loop, so the context may be used there.
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }
}
