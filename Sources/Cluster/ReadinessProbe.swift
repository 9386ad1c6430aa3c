import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// GET https://127.0.0.1:PORT/readyz, trusting only the cluster's CA: the check `cubby start`
/// waits on and `cubby status` reports; and the few reads the CLI makes of the API (`cubby ip`,
/// `cubby service`), as the profile's admin.
public enum ReadinessProbe {
    public static func isReady(port: Int, caPEM: String) async -> Bool {
        (try? await get(port: port, caPEM: caPEM, path: "/readyz").status) == .ok
    }

    /// One GET; the whole answer.
    static func get(port: Int, caPEM: String, path: String, token: String? = nil) async throws -> (status: HTTPResponseStatus, body: [UInt8]) {
        try await send(.GET, port: port, caPEM: caPEM, path: path, token: token)
    }

    /// One request, with a body if given; the whole answer.
    static func send(_ method: HTTPMethod, port: Int, caPEM: String, path: String, token: String? = nil,
                     body: [UInt8]? = nil, contentType: String = "application/octet-stream") async throws -> (status: HTTPResponseStatus, body: [UInt8]) {
        do {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(caPEM.utf8)))
            // The CA is the profile's own; the serving certificate names 127.0.0.1 among its SANs.
            tls.certificateVerification = .noHostnameVerification
            let context = try NIOSSLContext(configuration: tls)
            let promise = MultiThreadedEventLoopGroup.singleton.next().makePromise(of: (status: HTTPResponseStatus, body: [UInt8]).self)
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(1))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: nil))
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        try channel.pipeline.syncOperations.addHandler(StatusHandler(promise: promise))
                    }
                }
                .connect(host: "127.0.0.1", port: port).get()
            var headers = HTTPHeaders()
            headers.add(name: "Host", value: "127.0.0.1:\(port)")
            headers.add(name: "Connection", value: "close")
            if let token { headers.add(name: "Authorization", value: "Bearer \(token)") }
            if let body {
                headers.add(name: "Content-Type", value: contentType)
                headers.add(name: "Content-Length", value: String(body.count))
            }
            channel.write(HTTPClientRequestPart.head(HTTPRequestHead(version: .http1_1, method: method, uri: path, headers: headers)), promise: nil)
            if let body { channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(bytes: body))), promise: nil) }
            try await channel.writeAndFlush(HTTPClientRequestPart.end(nil)).get()
            let answer = try await promise.futureResult.get()
            try? await channel.close().get()
            return answer
        }
    }

    private final class StatusHandler: ChannelInboundHandler {
        typealias InboundIn = HTTPClientResponsePart
        let promise: EventLoopPromise<(status: HTTPResponseStatus, body: [UInt8])>
        var status: HTTPResponseStatus?
        var body: [UInt8] = []

        init(promise: EventLoopPromise<(status: HTTPResponseStatus, body: [UInt8])>) { self.promise = promise }

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

        func channelInactive(context: ChannelHandlerContext) {
            promise.fail(ChannelError.eof)
        }

        // A connection refused never becomes active: the promise still gets its answer.
        func handlerRemoved(context: ChannelHandlerContext) {
            promise.fail(ChannelError.ioOnClosedChannel)
        }
    }
}
