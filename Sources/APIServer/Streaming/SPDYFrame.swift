import NIOCore

/// SPDY/3.1 frames, as the kubelet's streaming server (containerd's CRI) speaks them for exec,
/// attach and port-forward. Only the client's side is built here: localkube opens the streams,
/// so it writes SYN_STREAM and never has to read a compressed header block (the server's
/// SYN_REPLY headers carry nothing a client needs).
enum SPDYFrame: Equatable {
    case data(stream: UInt32, fin: Bool, payload: ByteBuffer)
    /// SYN_STREAM, SYN_REPLY, HEADERS: the header block is kept compressed, unread.
    case synStream(stream: UInt32, fin: Bool)
    case synReply(stream: UInt32, fin: Bool)
    case headers(stream: UInt32, fin: Bool)
    case rstStream(stream: UInt32, status: UInt32)
    case settings
    case ping(id: UInt32)
    case goAway(lastStream: UInt32, status: UInt32)
    case windowUpdate(stream: UInt32, delta: UInt32)
    case unknown(type: UInt16)

    static let version: UInt16 = 3
    static let flagFin: UInt8 = 0x01
    static let headerSize = 8

    enum ControlType: UInt16 {
        case synStream = 1, synReply, rstStream, settings, noop, ping, goAway, headers, windowUpdate
    }

    /// Takes one whole frame off the front of `buffer`, or nil when more bytes are needed.
    static func read(from buffer: inout ByteBuffer) throws -> SPDYFrame? {
        guard buffer.readableBytes >= headerSize,
              let first = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self),
              let flagsAndLength = buffer.getInteger(at: buffer.readerIndex + 4, as: UInt32.self) else { return nil }
        let length = Int(flagsAndLength & 0xFF_FFFF)
        let flags = UInt8(flagsAndLength >> 24)
        guard buffer.readableBytes >= headerSize + length else { return nil }
        buffer.moveReaderIndex(forwardBy: headerSize)
        var body = buffer.readSlice(length: length)!
        let fin = flags & flagFin != 0
        guard first & 0x8000_0000 != 0 else {
            return .data(stream: first & 0x7FFF_FFFF, fin: fin, payload: body)
        }
        guard UInt16((first >> 16) & 0x7FFF) == version else { throw SPDYError.protocolError("unsupported SPDY version \((first >> 16) & 0x7FFF)") }
        func word() throws -> UInt32 {
            guard let v = body.readInteger(as: UInt32.self) else { throw SPDYError.protocolError("short control frame") }
            return v
        }
        switch ControlType(rawValue: UInt16(first & 0xFFFF)) {
        case .synStream: return .synStream(stream: try word() & 0x7FFF_FFFF, fin: fin)
        case .synReply: return .synReply(stream: try word() & 0x7FFF_FFFF, fin: fin)
        case .headers: return .headers(stream: try word() & 0x7FFF_FFFF, fin: fin)
        case .rstStream: return .rstStream(stream: try word() & 0x7FFF_FFFF, status: try word())
        case .settings: return .settings
        case .ping: return .ping(id: try word())
        case .goAway: return .goAway(lastStream: try word() & 0x7FFF_FFFF, status: (try? word()) ?? 0)
        case .windowUpdate: return .windowUpdate(stream: try word() & 0x7FFF_FFFF, delta: try word() & 0x7FFF_FFFF)
        case .noop, nil: return .unknown(type: UInt16(first & 0xFFFF))
        }
    }

    static func writeControl(_ type: ControlType, flags: UInt8 = 0, into out: inout ByteBuffer, body: (inout ByteBuffer) -> Void) {
        out.writeInteger(UInt32(0x8000_0000) | UInt32(version) << 16 | UInt32(type.rawValue))
        let lengthAt = out.writerIndex
        out.writeInteger(UInt32(0))
        let start = out.writerIndex
        body(&out)
        out.setInteger(UInt32(flags) << 24 | UInt32(out.writerIndex - start), at: lengthAt)
    }

    static func writeData(stream: UInt32, fin: Bool, payload: ByteBuffer, into out: inout ByteBuffer) {
        out.writeInteger(stream & 0x7FFF_FFFF)
        out.writeInteger(UInt32(fin ? flagFin : 0) << 24 | UInt32(payload.readableBytes))
        var payload = payload
        out.writeBuffer(&payload)
    }
}

enum SPDYError: Error, CustomStringConvertible {
    case protocolError(String)
    case closed

    var description: String {
        switch self {
        case .protocolError(let m): "SPDY protocol error: \(m)"
        case .closed: "connection closed"
        }
    }
}

/// The sending half of SPDY's header compression. A zlib stream whose blocks are stored, not
/// compressed: every zlib reader accepts it, and without the preset-dictionary flag a reader that
/// was given SPDY's dictionary does not need it. Headers here are a few short names; compressing
/// them would save bytes nobody counts.
struct SPDYHeaderWriter {
    private var started = false

    /// A name/value block (names lower-cased, as SPDY/3 requires) as the next piece of the stream.
    mutating func block(_ headers: [(String, String)]) -> [UInt8] {
        var raw: [UInt8] = []
        func int(_ n: Int) { raw += [UInt8(n >> 24 & 0xFF), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)] }
        int(headers.count)
        for (name, value) in headers {
            let n = Array(name.lowercased().utf8), v = Array(value.utf8)
            int(n.count); raw += n
            int(v.count); raw += v
        }
        var out: [UInt8] = started ? [] : [0x78, 0x01]
        started = true
        // Stored, non-final blocks of at most 65,535 bytes: BTYPE 00, LEN, NLEN (little endian).
        var offset = 0
        while offset < raw.count {
            let n = min(65_535, raw.count - offset)
            out += Self.storedBlockHeader(n) + raw[offset..<offset + n]
            offset += n
        }
        // An empty stored block ends each frame's piece, as a sync flush does: Go's inflater hands
        // out a block's bytes only at the next block boundary, which must lie inside this frame.
        return out + Self.storedBlockHeader(0)
    }

    private static func storedBlockHeader(_ n: Int) -> [UInt8] {
        [0x00, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)]
    }
}
