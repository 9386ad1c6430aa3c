import APIMachinery
import CRI
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import NIOCore
import NIOPosix

/// Runs one probe or lifecycle handler against a container, as upstream's prober does: exec
/// through CRI ExecSync (exit 0 passes), httpGet from the node to the pod (2xx and 3xx pass),
/// tcpSocket (a connection passes), grpc (the standard health service says SERVING), and for
/// hooks, sleep. Failures carry upstream's words, which events and messages quote.
struct Prober: Sendable {
    let runtime: RuntimeConnection

    enum Result: Equatable {
        case success
        case failure(String)
    }

    func run(_ handler: JSON, container: JSON, containerID: String, podIP: String, timeout: Duration) async -> Result {
        let seconds = max(1, timeout.components.seconds)
        if let command = handler["exec"]["command"].array {
            return await exec(command.compactMap(\.string), containerID: containerID, timeout: seconds)
        }
        if !handler["httpGet"].isNull {
            let get = handler["httpGet"]
            guard let port = Self.port(get["port"], container) else { return .failure("unknown port \(get["port"])") }
            let host = get["host"].string.flatMap { $0.isEmpty ? nil : $0 } ?? podIP
            var path = get["path"].string ?? "/"
            if !path.hasPrefix("/") { path = "/" + path }
            let headers = (get["httpHeaders"].array ?? []).map { ($0["name"].string ?? "", $0["value"].string ?? "") }
            return await Self.httpGet(host: host, port: port, path: path, headers: headers, timeout: .seconds(seconds))
        }
        if !handler["tcpSocket"].isNull {
            guard let port = Self.port(handler["tcpSocket"]["port"], container) else { return .failure("unknown port") }
            let host = handler["tcpSocket"]["host"].string.flatMap { $0.isEmpty ? nil : $0 } ?? podIP
            return await Self.tcp(host: host, port: port, timeout: .seconds(seconds))
        }
        if !handler["grpc"].isNull {
            let port = Int(handler["grpc"]["port"].int ?? 0)
            return await Self.grpcHealth(host: podIP, port: port, service: handler["grpc"]["service"].string ?? "", timeout: .seconds(seconds))
        }
        if let sleep = handler["sleep"]["seconds"].int {
            try? await Task.sleep(for: .seconds(min(sleep, seconds)))
            return .success
        }
        return .failure("missing probe handler")
    }

    func exec(_ command: [String], containerID: String, timeout: Int64) async -> Result {
        do {
            var options = CallOptions.defaults
            options.timeout = .seconds(timeout + 5)
            let response = try await runtime.runtime.execSync(.with {
                $0.containerID = containerID
                $0.cmd = command
                $0.timeout = timeout
            }, options: options)
            if response.exitCode == 0 { return .success }
            let output = String(decoding: response.stdout + response.stderr, as: UTF8.self)
            return .failure(output.trimmingCharacters(in: .whitespacesAndNewlines))
        } catch {
            let text = Kubelet.describe(error)
            if text.contains("DeadlineExceeded") || text.contains("timeout") {
                return .failure("command \"\(command.joined(separator: " "))\" timed out")
            }
            return .failure(text)
        }
    }

    /// A port by number, or by the name of one of the container's ports.
    static func port(_ value: JSON, _ container: JSON) -> Int? {
        if let n = value.int { return Int(n) }
        guard let name = value.string else { return nil }
        if let n = Int(name) { return n }
        return (container["ports"].array ?? []).first { $0["name"].string == name }?["containerPort"].int.map(Int.init)
    }

    static func httpGet(host: String, port: Int, path: String, headers: [(String, String)], timeout: Duration) async -> Result {
        let url = "http://\(host):\(port)\(path)"
        var request = "GET \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nUser-Agent: kube-probe/1.37\r\nAccept: */*\r\nConnection: close\r\n"
        for (name, value) in headers where !name.isEmpty {
            request += "\(name): \(value)\r\n"
        }
        request += "\r\n"
        let message = request
        let result = await withDeadline(timeout) { () async throws -> Result in
            let channel = try await connect(host: host, port: port, timeout: timeout)
            return try await channel.executeThenClose { inbound, outbound in
                try await outbound.write(ByteBuffer(string: message))
                var head = ""
                for try await chunk in inbound {
                    head += String(buffer: chunk)
                    if head.contains("\r\n") { break }
                }
                let parts = head.split(separator: " ", maxSplits: 2)
                guard parts.count >= 2, let code = Int(parts[1]) else { return .failure("malformed HTTP response") }
                return (200..<400).contains(code) ? .success : .failure("HTTP probe failed with statuscode: \(code)")
            }
        }
        switch result {
        case .some(.success(let r)): return r
        case .some(.failure(let error)): return .failure("Get \"\(url)\": dial tcp \(host):\(port): \(describe(error))")
        case .none: return .failure("Get \"\(url)\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)")
        }
    }

    static func tcp(host: String, port: Int, timeout: Duration) async -> Result {
        let result = await withDeadline(timeout) { () async throws -> Result in
            let channel = try await connect(host: host, port: port, timeout: timeout)
            try await channel.executeThenClose { _, _ in }
            return .success
        }
        switch result {
        case .some(.success(let r)): return r
        case .some(.failure(let error)): return .failure("dial tcp \(host):\(port): \(describe(error))")
        case .none: return .failure("dial tcp \(host):\(port): i/o timeout")
        }
    }

    static func connect(host: String, port: Int, timeout: Duration) async throws -> NIOAsyncChannel<ByteBuffer, ByteBuffer> {
        try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.milliseconds(timeout.components.seconds * 1000))
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
            }
    }

    /// Go's words for the usual connection failures.
    static func describe(_ error: any Error) -> String {
        let text = "\(error)"
        if text.contains("refused") || text.contains("ECONNREFUSED") { return "connect: connection refused" }
        if text.contains("unreachable") { return "connect: no route to host" }
        if text.lowercased().contains("timeout") || text.contains("timed out") { return "i/o timeout" }
        return text
    }

    /// The body's result, or nil if `timeout` passed first.
    static func withDeadline<T: Sendable>(_ timeout: Duration, _ body: @escaping @Sendable () async throws -> T) async -> Swift.Result<T, any Error>? {
        await withTaskGroup(of: Swift.Result<T, any Error>?.self) { group in
            group.addTask {
                do { return .success(try await body()) } catch { return .failure(error) }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    /// grpc.health.v1.Health/Check, its two messages encoded by hand: a request whose field 1 is
    /// the service name, a response whose field 1 is the serving status (1 = SERVING).
    static func grpcHealth(host: String, port: Int, service: String, timeout: Duration) async -> Result {
        let result = await withDeadline(timeout) { () async throws -> Int in
            let transport = try HTTP2ClientTransport.Posix(target: .ipv4(address: host, port: port), transportSecurity: .plaintext)
            return try await withGRPCClient(transport: transport) { client in
                let request = ClientRequest<[UInt8]>(message: service.isEmpty ? [] : [0x0a, UInt8(service.utf8.count)] + Array(service.utf8))
                return try await client.unary(request: request, descriptor: MethodDescriptor(fullyQualifiedService: "grpc.health.v1.Health", method: "Check"),
                                              serializer: RawBytes(), deserializer: RawBytes(), options: .defaults) { response in
                    let bytes = try response.message
                    return bytes.count >= 2 && bytes[0] == 0x08 ? Int(bytes[1]) : 0
                }
            }
        }
        let names = [0: "UNKNOWN", 1: "SERVING", 2: "NOT_SERVING", 3: "SERVICE_UNKNOWN"]
        switch result {
        case .some(.success(1)): return .success
        case .some(.success(let status)): return .failure("service unhealthy (responded with \"\(names[status] ?? "UNKNOWN")\")")
        case .some(.failure(let error)): return .failure("error: health rpc probe failed: \(Kubelet.describe(error))")
        case .none: return .failure("timeout: health rpc did not complete within \(timeout.components.seconds)s")
        }
    }

    struct RawBytes: MessageSerializer, MessageDeserializer {
        func serialize<Bytes: GRPCContiguousBytes>(_ message: [UInt8]) throws -> Bytes { Bytes(message) }
        func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> [UInt8] {
            serializedMessageBytes.withUnsafeBytes { Array($0) }
        }
    }
}
