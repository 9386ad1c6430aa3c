#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization
@testable import DNS

// Plain BSD sockets on 127.0.0.1, each on a thread of its own, so the tests have an upstream and
// a client that share no code with the server (and never block Swift's cooperative threads).

#if canImport(Glibc)
private let datagram = Int32(SOCK_DGRAM.rawValue), stream = Int32(SOCK_STREAM.rawValue)
#else
private let datagram = SOCK_DGRAM, stream = SOCK_STREAM
#endif

private func loopback(port: UInt16) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
    return address
}

private func bindLoopback(_ fd: Int32, port: UInt16) -> Bool {
    var address = loopback(port: port)
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
    }
}

private func boundPort(_ fd: Int32) -> UInt16 {
    var address = sockaddr_in()
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
    return UInt16(bigEndian: address.sin_port)
}

private func setTimeout(_ fd: Int32, milliseconds: Int) {
    var tv = timeval(tv_sec: milliseconds / 1000, tv_usec: .init((milliseconds % 1000) * 1000))
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
}

private func readFully(_ fd: Int32, _ count: Int) -> [UInt8]? {
    var buffer = [UInt8](repeating: 0, count: count), got = 0
    while got < count {
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + got, count - got, 0) }
        guard n > 0 else { return nil }
        got += n
    }
    return buffer
}

private func closeSocket(_ fd: Int32) { close(fd) }

private func framed(_ bytes: [UInt8]) -> [UInt8] { [UInt8(bytes.count >> 8), UInt8(bytes.count & 0xFF)] + bytes }

/// Runs blocking work on a thread of its own and awaits it.
func offThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        Thread { continuation.resume(returning: body()) }.start()
    }
}

/// An upstream resolver on 127.0.0.1 (UDP and TCP on one port) that answers with `answer`,
/// counting the queries it gets.
final class FakeUpstream: Sendable {
    typealias Answer = @Sendable (_ query: DNSMessage, _ overTCP: Bool) -> DNSMessage?

    let port: Int
    private let state = Mutex<(queries: [String], stopped: Bool)>(([], false))
    private let finished = Mutex<Bool>(false)

    init(answer: @escaping Answer) throws {
        var udp: Int32 = -1, tcp: Int32 = -1, port: UInt16 = 0
        for _ in 0..<10 {
            udp = socket(AF_INET, datagram, 0)
            guard bindLoopback(udp, port: 0) else { close(udp); continue }
            port = boundPort(udp)
            tcp = socket(AF_INET, stream, 0)
            var on: Int32 = 1
            setsockopt(tcp, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
            if bindLoopback(tcp, port: port), listen(tcp, 8) == 0 { break }
            close(udp); close(tcp); udp = -1
        }
        guard udp >= 0 else { throw POSIXError(.EADDRINUSE) }
        self.port = Int(port)
        let udpSocket = udp, tcpSocket = tcp
        Thread { [self] in
            let udp = udpSocket, tcp = tcpSocket
            defer { close(udp); close(tcp); finished.withLock { $0 = true } }
            var fds = [pollfd(fd: udp, events: Int16(POLLIN), revents: 0), pollfd(fd: tcp, events: Int16(POLLIN), revents: 0)]
            while !state.withLock({ $0.stopped }) {
                guard poll(&fds, 2, 20) > 0 else { continue }
                if fds[0].revents & Int16(POLLIN) != 0 {
                    var buffer = [UInt8](repeating: 0, count: 4096)
                    var from = sockaddr_in()
                    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
                    let n = buffer.withUnsafeMutableBytes { bytes in
                        withUnsafeMutablePointer(to: &from) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(udp, bytes.baseAddress, 4096, 0, $0, &length) } }
                    }
                    if n > 0, let query = try? MessageDecoder.decode(Array(buffer[..<n])) {
                        state.withLock { $0.queries.append("udp " + (query.questions.first?.name.description ?? "")) }
                        if let reply = answer(query, false) {
                            let bytes = MessageEncoder.encodeWhole(reply)
                            _ = withUnsafePointer(to: &from) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(udp, bytes, bytes.count, 0, $0, length) } }
                        }
                    }
                }
                if fds[1].revents & Int16(POLLIN) != 0 {
                    let connection = accept(tcp, nil, nil)
                    guard connection >= 0 else { continue }
                    setTimeout(connection, milliseconds: 1000)
                    if let prefix = readFully(connection, 2), let body = readFully(connection, Int(prefix[0]) << 8 | Int(prefix[1])),
                       let query = try? MessageDecoder.decode(body) {
                        state.withLock { $0.queries.append("tcp " + (query.questions.first?.name.description ?? "")) }
                        if let reply = answer(query, true) {
                            let bytes = framed(MessageEncoder.encodeWhole(reply))
                            _ = send(connection, bytes, bytes.count, 0)
                        }
                    }
                    close(connection)
                }
            }
        }.start()
    }

    var queries: [String] { state.withLock { $0.queries } }

    func stop() {
        state.withLock { $0.stopped = true }
        while !finished.withLock({ $0 }) { usleep(1000) }
    }

    /// A reply to `query` with A records for its name.
    static func addresses(_ query: DNSMessage, _ ips: [IPv4Address], ttl: UInt32 = 60) -> DNSMessage {
        var reply = DNSMessage.reply(to: query)
        reply.recursionAvailable = true
        reply.answers = ips.map { DNSRecord(name: query.questions[0].name, type: .a, ttl: ttl, data: .a($0)) }
        return reply
    }
}

/// A UDP port on 127.0.0.1 that nothing answers on (bound, never read), for upstreams that time out.
final class SilentPort: Sendable {
    let port: Int
    private let fd: Int32

    init() {
        fd = socket(AF_INET, datagram, 0)
        _ = bindLoopback(fd, port: 0)
        port = Int(boundPort(fd))
    }

    func close() { closeSocket(fd) }
}

/// A client of a DNS server on 127.0.0.1.
enum LoopbackClient {
    /// One query over UDP; the raw reply, or nil after a second.
    static func udp(_ query: [UInt8], port: Int) async -> [UInt8]? {
        await offThread {
            let fd = socket(AF_INET, datagram, 0)
            defer { close(fd) }
            setTimeout(fd, milliseconds: 3000)
            var to = loopback(port: UInt16(port))
            let sent = withUnsafePointer(to: &to) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fd, query, query.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            guard sent == query.count else { return nil }
            var buffer = [UInt8](repeating: 0, count: 65535)
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, 65535, 0) }
            return n > 0 ? Array(buffer[..<n]) : nil
        }
    }

    /// Queries over one TCP connection; the replies in the order they came.
    static func tcp(_ queries: [[UInt8]], port: Int) async -> [[UInt8]] {
        await offThread {
            let fd = socket(AF_INET, stream, 0)
            defer { close(fd) }
            setTimeout(fd, milliseconds: 3000)
            var to = loopback(port: UInt16(port))
            let connected = withUnsafePointer(to: &to) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            guard connected == 0 else { return [] }
            let bytes = queries.flatMap(framed)
            guard send(fd, bytes, bytes.count, 0) == bytes.count else { return [] }
            var replies: [[UInt8]] = []
            for _ in queries {
                guard let prefix = readFully(fd, 2), let body = readFully(fd, Int(prefix[0]) << 8 | Int(prefix[1])) else { break }
                replies.append(body)
            }
            return replies
        }
    }

    /// GET over HTTP/1.1; the whole response, headers and body.
    static func httpGet(_ path: String, port: Int) async -> String {
        await offThread {
            let fd = socket(AF_INET, stream, 0)
            defer { close(fd) }
            setTimeout(fd, milliseconds: 3000)
            var to = loopback(port: UInt16(port))
            let connected = withUnsafePointer(to: &to) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            guard connected == 0 else { return "" }
            let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
            _ = send(fd, request, request.count, 0)
            var response: [UInt8] = [], buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, 4096, 0) }
                guard n > 0 else { break }
                response += buffer[..<n]
            }
            return String(decoding: response, as: UTF8.self)
        }
    }
}
