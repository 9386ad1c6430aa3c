import APIMachinery
import Foundation
import NIOCore
import NIOPosix

/// A connection to the runtime's streaming server (the URL CRI Exec, Attach or PortForward
/// answered), upgraded to SPDY/3.1 as upstream's kubelet and API server upgrade it. After the
/// upgrade the connection is a byte stream: spliced as it is to a client that speaks SPDY too,
/// or driven by `SPDYClientSession` for a client speaking WebSocket channels.
package struct StreamingBackend {
    package var reader: ByteReader
    package var outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>

    /// Connects, asks for the upgrade offering `protocols` (most preferred first), and runs `body`
    /// on the upgraded connection; the connection is closed when `body` returns.
    package static func withUpgradedConnection<R: Sendable>(
        to url: String, protocols: [String], _ body: (inout StreamingBackend) async throws -> R
    ) async throws -> R {
        guard let parsed = URL(string: url), let host = parsed.host, let port = parsed.port else {
            throw StatusError.internalError("the container runtime answered an unusable stream URL \(url)")
        }
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel,
                                                               configuration: .init(isOutboundHalfClosureEnabled: true))
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            var request = "POST \(parsed.path.isEmpty ? "/" : parsed.path) HTTP/1.1\r\nHost: \(host):\(port)\r\n"
            request += "Connection: Upgrade\r\nUpgrade: SPDY/3.1\r\nContent-Length: 0\r\n"
            for p in protocols { request += "X-Stream-Protocol-Version: \(p)\r\n" }
            request += "\r\n"
            try await outbound.write(ByteBuffer(string: request))
            var backend = StreamingBackend(reader: ByteReader(inbound.makeAsyncIterator()), outbound: outbound)
            let (status, headers) = try await backend.reader.readResponseHead()
            guard status == 101 else {
                // The streaming server explains a refusal in its body (an expired token, a container gone).
                let length = min(Int(headers["content-length"] ?? "") ?? 16_384, 16_384)
                let body = String(decoding: try await backend.reader.readAll(limit: length), as: UTF8.self)
                    .trimmingCharacters(in: .whitespacesAndNewlines)
                throw StatusError.internalError("error dialing backend: \(body.isEmpty ? "HTTP \(status)" : body)")
            }
            return try await body(&backend)
        }
    }
}

/// Reads a connection's bytes in one task: whole frames or lines out of what has arrived.
package struct ByteReader {
    private var iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    /// Bytes read from the socket that no one has taken yet.
    var pending = ByteBuffer()

    init(_ iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator) {
        self.iterator = iterator
    }

    /// The next bytes: what is pending, or the next read. Nil at the end of the stream.
    package mutating func next() async throws -> ByteBuffer? {
        if pending.readableBytes > 0 {
            defer { pending = ByteBuffer() }
            return pending
        }
        return try await iterator.next()
    }

    /// Reads more into `pending`; false at the end of the stream.
    mutating func fill() async throws -> Bool {
        guard var more = try await iterator.next() else { return false }
        pending.writeBuffer(&more)
        return true
    }

    /// An HTTP/1.1 response head: its status and its headers (names lower-cased).
    mutating func readResponseHead() async throws -> (Int, [String: String]) {
        while true {
            let view = pending.readableBytesView
            if let end = view.firstRange(of: [13, 10, 13, 10]) {
                let head = String(decoding: view[view.startIndex..<end.lowerBound], as: UTF8.self)
                pending.moveReaderIndex(to: end.upperBound)
                let lines = head.components(separatedBy: "\r\n")
                let parts = lines[0].split(separator: " ")
                guard parts.count >= 2, let status = Int(parts[1]) else { throw SPDYError.protocolError("malformed response \(lines[0])") }
                var headers: [String: String] = [:]
                for line in lines.dropFirst() {
                    guard let colon = line.firstIndex(of: ":") else { continue }
                    headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                }
                return (status, headers)
            }
            guard pending.readableBytes < 65_536, try await fill() else { throw SPDYError.closed }
        }
    }

    mutating func readAll(limit: Int) async throws -> [UInt8] {
        while pending.readableBytes < limit, (try? await fill()) == true {}
        return Array(pending.readableBytesView.prefix(limit))
    }
}
