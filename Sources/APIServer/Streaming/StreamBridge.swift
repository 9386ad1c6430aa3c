import APIMachinery
import Logging
import NIOCore
import NIOWebSocket
import Registry

/// Carries an upgraded client connection to the runtime's streaming server, which speaks SPDY.
/// As upstream's API server translates: WebSocket channel protocols (v5 and v4 for exec and
/// attach, v4 for port-forward) become SPDY streams; a client speaking SPDY itself, directly or
/// tunnelled in WebSocket messages, is passed through byte for byte.
struct StreamBridge {
    let target: StreamTarget
    let logger: Logger

    func serve(webSocket ws: NIOAsyncChannel<WebSocketFrame, WebSocketFrame>, protocol chosen: String) async {
        do {
            try await ws.executeThenClose { inbound, outbound in
                switch (target.kind, chosen) {
                case (.portForward, PortForwardProtocol.spdyTunnel):
                    try await tunnel(inbound, outbound)
                case (.portForward(let ports), _):
                    try await portForward(ports: ports, inbound, outbound)
                case (.remoteCommand(let stdin, let stdout, let stderr, _), _) where target.runInContainer != nil:
                    try await runInContainer(v5: chosen == RemoteCommandProtocol.v5, stdin: stdin, stdout: stdout, stderr: stderr,
                                             inbound, outbound)
                case (.remoteCommand(let stdin, let stdout, let stderr, let tty), _):
                    try await remoteCommand(v5: chosen == RemoteCommandProtocol.v5, stdin: stdin, stdout: stdout, stderr: stderr, tty: tty,
                                            inbound, outbound)
                }
                try? await outbound.write(Self.close)
            }
        } catch {
            logger.debug("stream ended: \(error)")
        }
    }

    /// A SPDY client: the connection joins the node's, both ways, until either side ends.
    func serve(spdy client: NIOAsyncChannel<ByteBuffer, ByteBuffer>, protocol chosen: String) async {
        do {
            try await client.executeThenClose { inbound, outbound in
                try await StreamingBackend.withUpgradedConnection(to: target.url, protocols: [chosen]) { backend in
                    try await Self.splice(&backend, toNode: { toNode in
                        for try await chunk in inbound { try await toNode.write(chunk) }
                    }, toClient: { try await outbound.write($0) })
                }
            }
        } catch {
            logger.debug("stream ended: \(error)")
        }
    }

    // MARK: WebSocket

    typealias Inbound = NIOAsyncChannelInboundStream<WebSocketFrame>
    typealias Outbound = NIOAsyncChannelOutboundWriter<WebSocketFrame>

    static let close = WebSocketFrame(fin: true, opcode: .connectionClose, data: ByteBuffer(bytes: [0x03, 0xE8]))

    static func message(_ channel: UInt8, _ payload: ByteBuffer) -> WebSocketFrame {
        var data = ByteBuffer()
        data.writeInteger(channel)
        var payload = payload
        data.writeBuffer(&payload)
        return WebSocketFrame(fin: true, opcode: .binary, data: data)
    }

    /// The client's messages until it closes: data messages to `onMessage`, pings answered.
    static func readMessages(_ inbound: Inbound, _ outbound: Outbound, _ onMessage: (ByteBuffer) async throws -> Void) async throws {
        for try await frame in inbound {
            switch frame.opcode {
            case .binary, .text: try await onMessage(frame.unmaskedData)
            case .ping: try await outbound.write(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData))
            case .connectionClose: return
            default: break
            }
        }
    }

    /// kubectl's port-forward over WebSocket: its SPDY session rides in binary messages.
    private func tunnel(_ inbound: Inbound, _ outbound: Outbound) async throws {
        try await StreamingBackend.withUpgradedConnection(to: target.url, protocols: [PortForwardProtocol.spdy]) { backend in
            try await Self.splice(&backend, toNode: { toNode in
                try await Self.readMessages(inbound, outbound) { try await toNode.write($0) }
            }, toClient: { try await outbound.write(WebSocketFrame(fin: true, opcode: .binary, data: $0)) })
        }
    }

    /// Joins a client to the node's streaming server byte for byte, both ways: the client's side
    /// ending half-closes the node's, and the node's ending ends the stream.
    private static func splice(_ backend: inout StreamingBackend,
                               toNode: @escaping @Sendable (NIOAsyncChannelOutboundWriter<ByteBuffer>) async throws -> Void,
                               toClient: (ByteBuffer) async throws -> Void) async throws {
        let node = backend.outbound
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await toNode(node)
                node.finish()
            }
            while let chunk = try await backend.reader.next() { try await toClient(chunk) }
            group.cancelAll()
        }
    }

    /// exec and attach over the channel protocols: stdin 0, stdout 1, stderr 2, the error (the
    /// command's Status) 3, terminal size 4; v5 adds 255, a channel's end (stdin's EOF).
    private func remoteCommand(v5: Bool, stdin: Bool, stdout: Bool, stderr: Bool, tty: Bool,
                               _ inbound: Inbound, _ outbound: Outbound) async throws {
        var wanted: [(channel: UInt8, type: String)] = [(3, "error")]
        if stdin { wanted.append((0, "stdin")) }
        if stdout { wanted.append((1, "stdout")) }
        if stderr { wanted.append((2, "stderr")) }
        if tty { wanted.append((4, "resize")) }
        do {
            try await StreamingBackend.withUpgradedConnection(to: target.url, protocols: [RemoteCommandProtocol.v4]) { backend in
                let session = try await SPDYClientSession.open(wanted.map { [("streamType", $0.type)] }, reader: &backend.reader, outbound: backend.outbound)
                let streamOf = Dictionary(uniqueKeysWithValues: zip(wanted.map(\.channel), session.streams))
                let channelOf = Dictionary(uniqueKeysWithValues: zip(session.streams, wanted.map(\.channel)))
                // Upstream's first message: an empty one on the first output channel, "ready".
                try await outbound.write(Self.message(stdout ? 1 : stderr ? 2 : 3, ByteBuffer()))
                let toNode = backend.outbound
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        try await Self.readMessages(inbound, outbound) { message in
                            var data = message
                            guard let channel = data.readInteger(as: UInt8.self) else { return }
                            if channel == 255, v5 {
                                if let closed = data.readInteger(as: UInt8.self), closed == 0, let s = streamOf[0] { try await session.finish(s) }
                            } else if channel == 0 || channel == 4, let s = streamOf[channel] {
                                try await session.send(s, data)
                            }
                        }
                        // The client went away: so does the node's session.
                        toNode.finish()
                    }
                    var status = ByteBuffer()
                    let outputs: Set<UInt8> = [1, 2, 3]
                    var open = Set(wanted.map(\.channel)).intersection(outputs)
                    try await session.run(&backend.reader) { event in
                        switch event {
                        case .data(let stream, var payload):
                            switch channelOf[stream] {
                            case 3?: status.writeBuffer(&payload)
                            case let channel? where channel == 1 || channel == 2: try await outbound.write(Self.message(channel, payload))
                            default: break
                            }
                        case .finished(let stream):
                            if let channel = channelOf[stream] { open.remove(channel) }
                        }
                        return !open.isEmpty
                    }
                    if status.readableBytes > 0 { try await outbound.write(Self.message(3, status)) }
                    group.cancelAll()
                }
            }
        } catch let error as StatusError {
            try await outbound.write(Self.message(3, ByteBuffer(bytes: error.status.serialized())))
        } catch SPDYError.closed {
            return
        } catch {
            try await outbound.write(Self.message(3, ByteBuffer(bytes: StatusError.internalError("\(error)").status.serialized())))
        }
    }

    /// An exec the node runs itself (stdin, no terminal): the same channels, fed from its streams.
    private func runInContainer(v5: Bool, stdin: Bool, stdout: Bool, stderr: Bool, _ inbound: Inbound, _ outbound: Outbound) async throws {
        guard let run = target.runInContainer else { return }
        try await outbound.write(Self.message(stdout ? 1 : stderr ? 2 : 3, ByteBuffer()))
        let (input, feed) = AsyncStream<[UInt8]>.makeStream()
        let status: JSON
        do {
            status = try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await Self.readMessages(inbound, outbound) { message in
                        var data = message
                        switch data.readInteger(as: UInt8.self) {
                        case 0: feed.yield(Array(data.readableBytesView))
                        case 255 where v5: if data.readInteger(as: UInt8.self) == 0 { feed.finish() }
                        default: break
                        }
                    }
                    feed.finish()
                }
                let code = try await run(ProcessStreams(stdin: input) { stream, bytes in
                    guard stream == 1 ? stdout : stderr else { return }
                    try await outbound.write(Self.message(stream, ByteBuffer(bytes: bytes)))
                })
                group.cancelAll()
                return Self.exitStatus(code)
            }
        } catch let error as StatusError {
            status = error.status
        }
        try await outbound.write(Self.message(3, ByteBuffer(bytes: status.serialized())))
    }

    /// The error channel's Status for an exit code, as the runtime's streaming server writes it.
    static func exitStatus(_ code: Int32) -> JSON {
        guard code != 0 else { return ["metadata": .emptyObject, "status": "Success"] }
        return ["metadata": .emptyObject, "status": "Failure", "reason": "NonZeroExitCode",
                "message": .string("command terminated with non-zero exit code: exit code \(code)"),
                "details": ["causes": [["reason": "ExitCode", "message": .string(String(code))]]]]
    }

    /// The Python client's port-forward: each port of the query gets a data channel (2i) and an
    /// error channel (2i+1), each opened by a message of the port number (little endian).
    private func portForward(ports: [UInt16], _ inbound: Inbound, _ outbound: Outbound) async throws {
        guard !ports.isEmpty else { return }
        for (i, port) in ports.enumerated() {
            for channel in [UInt8(2 * i), UInt8(2 * i + 1)] {
                try await outbound.write(Self.message(channel, ByteBuffer(bytes: [UInt8(port & 0xFF), UInt8(port >> 8)])))
            }
        }
        try await StreamingBackend.withUpgradedConnection(to: target.url, protocols: [PortForwardProtocol.spdy]) { backend in
            // Per port an error stream, then a data stream: channels 2i+1 and 2i.
            let headers = ports.enumerated().flatMap { i, port in
                ["error", "data"].map { [("streamType", $0), ("port", String(port)), ("requestID", String(i))] }
            }
            let session = try await SPDYClientSession.open(headers, reader: &backend.reader, outbound: backend.outbound)
            var channelOf: [UInt32: UInt8] = [:]
            for (i, stream) in session.streams.enumerated() { channelOf[stream] = UInt8(i % 2 == 0 ? i + 1 : i - 1) }
            let streamOf = Dictionary(uniqueKeysWithValues: channelOf.map { ($1, $0) })
            // Nothing is written on an error stream: the client's half ends at once.
            for (i, stream) in session.streams.enumerated() where i % 2 == 0 { try await session.finish(stream) }
            let toNode = backend.outbound
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await Self.readMessages(inbound, outbound) { message in
                        var data = message
                        guard let channel = data.readInteger(as: UInt8.self), channel % 2 == 0, let s = streamOf[channel] else { return }
                        try await session.send(s, data)
                    }
                    toNode.finish()
                }
                var open = Set(channelOf.values.filter { $0 % 2 == 0 })
                try await session.run(&backend.reader) { event in
                    switch event {
                    case .data(let stream, let payload):
                        if let channel = channelOf[stream] { try await outbound.write(Self.message(channel, payload)) }
                    case .finished(let stream):
                        if let channel = channelOf[stream] { open.remove(channel) }
                    }
                    return !open.isEmpty
                }
                group.cancelAll()
            }
        }
    }
}
