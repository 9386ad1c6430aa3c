import NIOCore

/// The client's side of a SPDY/3.1 session on an upgraded backend connection: localkube opens
/// every stream at once (the remote-command and port-forward protocols create theirs up front),
/// then writes data on them while `run` hands what the server sends to the caller.
package struct SPDYClientSession: Sendable {
    package enum Event: Sendable {
        case data(stream: UInt32, ByteBuffer)
        /// The server will send no more on the stream (FIN, or a reset).
        case finished(stream: UInt32)
    }

    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    /// The streams' ids, in the order they were asked for.
    package let streams: [UInt32]

    /// Opens one stream per header list (SYN_STREAM, ids 1, 3, 5, ...) in a single write, so
    /// the header compressor's bytes go out in the order they were made, and waits for the
    /// server's replies: data sent on a stream it has not answered yet would be dropped.
    package static func open(_ headers: [[(String, String)]], reader: inout ByteReader,
                     outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) async throws -> SPDYClientSession {
        var compressor = SPDYHeaderWriter()
        var out = ByteBuffer()
        var ids: [UInt32] = []
        for (index, list) in headers.enumerated() {
            let id = UInt32(2 * index + 1)
            ids.append(id)
            let block = compressor.block(list)
            SPDYFrame.writeControl(.synStream, into: &out) { body in
                body.writeInteger(id)
                body.writeInteger(UInt32(0))  // associated stream
                body.writeInteger(UInt16(0))  // priority 0, slot 0
                body.writeBytes(block)
            }
        }
        try await outbound.write(out)
        // Frames other than replies (a port-forward's error can come before the last reply:
        // the server pairs a port's streams before it answers the second) are kept, in order,
        // for `run`.
        var unanswered = Set(ids)
        var buffer = ByteBuffer()
        var kept = ByteBuffer()
        while !unanswered.isEmpty {
            while !unanswered.isEmpty {
                let unread = buffer
                guard let frame = try SPDYFrame.read(from: &buffer) else { break }
                switch frame {
                case .synReply(let stream, _): unanswered.remove(stream)
                case .ping(let id):
                    var pong = ByteBuffer()
                    SPDYFrame.writeControl(.ping, into: &pong) { $0.writeInteger(id) }
                    try await outbound.write(pong)
                default:
                    kept.writeImmutableBuffer(unread.getSlice(at: unread.readerIndex, length: buffer.readerIndex - unread.readerIndex) ?? ByteBuffer())
                }
            }
            if unanswered.isEmpty { break }
            guard var more = try await reader.next() else { throw SPDYError.closed }
            buffer.writeBuffer(&more)
        }
        kept.writeBuffer(&buffer)
        reader.pending = kept
        return SPDYClientSession(outbound: outbound, streams: ids)
    }

    /// Writes `data` on a stream, in frames of at most 64 KiB.
    package func send(_ stream: UInt32, _ data: ByteBuffer) async throws {
        var data = data
        while data.readableBytes > 0 {
            let chunk = data.readSlice(length: min(65_536, data.readableBytes))!
            var out = ByteBuffer()
            SPDYFrame.writeData(stream: stream, fin: false, payload: chunk, into: &out)
            try await outbound.write(out)
        }
    }

    /// Half-closes a stream: the server reads its end (stdin's EOF).
    package func finish(_ stream: UInt32) async throws {
        var out = ByteBuffer()
        SPDYFrame.writeData(stream: stream, fin: true, payload: ByteBuffer(), into: &out)
        try await outbound.write(out)
    }

    /// Reads the server's frames until the connection ends or the server goes away, answering
    /// pings. No WINDOW_UPDATE is sent: spdystream, the runtime's SPDY, has no flow control. `onEvent` is awaited before
    /// the next frame is read, so a slow client slows the server rather than filling memory; it
    /// answers whether to go on.
    package func run(_ reader: inout ByteReader, onEvent: (Event) async throws -> Bool) async throws {
        var buffer = ByteBuffer()
        while true {
            while let frame = try SPDYFrame.read(from: &buffer) {
                switch frame {
                case .data(let stream, let fin, let payload):
                    if payload.readableBytes > 0 {
                        guard try await onEvent(.data(stream: stream, payload)) else { return }
                    }
                    if fin { guard try await onEvent(.finished(stream: stream)) else { return } }
                case .synReply(let stream, let fin), .headers(let stream, let fin):
                    if fin { guard try await onEvent(.finished(stream: stream)) else { return } }
                case .rstStream(let stream, _):
                    guard try await onEvent(.finished(stream: stream)) else { return }
                case .ping(let id):
                    var pong = ByteBuffer()
                    SPDYFrame.writeControl(.ping, into: &pong) { $0.writeInteger(id) }
                    // A server that has gone meanwhile is noticed by the next read.
                    try? await outbound.write(pong)
                case .synStream(let stream, _):
                    // Servers of these protocols open no streams; refuse any.
                    var reset = ByteBuffer()
                    SPDYFrame.writeControl(.rstStream, into: &reset) { $0.writeInteger(stream); $0.writeInteger(UInt32(1)) }
                    try? await outbound.write(reset)
                case .goAway:
                    return
                case .settings, .windowUpdate, .unknown:
                    break
                }
            }
            guard var more = try await reader.next() else { return }
            buffer.writeBuffer(&more)
            buffer.discardReadBytes()
        }
    }
}
