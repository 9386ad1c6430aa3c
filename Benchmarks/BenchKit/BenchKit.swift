import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

// What the benchmark executables share: a localkube started on a fresh data directory, HTTPS
// clients, the 1 KB configmap payload, create load, watch delivery, percentiles and RSS.

/// The options every benchmark takes (`--bin PATH`, `--objects N`, `--seconds N` for a timed run)
/// and its own `--NAME VALUE` ones, whose defaults `extra` gives; anything else stops the run.
public struct BenchOptions {
    public var bin = ".build/release/cubby"
    public var objects = 10_000
    /// How long a timed run (the soak) lasts.
    public var seconds = 600
    public var extra: [String: String]

    public init(extra: [String: String] = [:]) {
        self.extra = extra
        var args = CommandLine.arguments.dropFirst()
        while let a = args.popFirst() {
            switch a {
            case "--bin": bin = args.popFirst() ?? bin
            case "--objects": objects = Int(args.popFirst() ?? "") ?? objects
            case "--seconds": seconds = Int(args.popFirst() ?? "") ?? seconds
            case let flag where flag.hasPrefix("--") && extra[String(flag.dropFirst(2))] != nil: self.extra[String(flag.dropFirst(2))] = args.popFirst()
            default:
                let own = extra.keys.sorted().map { " [--\($0) VALUE]" }.joined()
                FileHandle.standardError.write(Data("unknown argument \(a); usage: [--bin PATH] [--objects N] [--seconds N]\(own)\n".utf8))
                exit(2)
            }
        }
    }
}

public struct BenchError: Error, CustomStringConvertible {
    public let description: String
    public init(description: String) { self.description = description }
}

/// Prints a figure at once (stdout to a file would otherwise hold it until exit).
public func report(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }

public func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

public func percentile(_ values: [Double], _ p: Double) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return .nan }
    return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
}

public func ms(_ s: Double) -> String { String(format: "%.1f ms", s * 1000) }

public func freePort() -> Int { Int.random(in: 20000...40000) }

/// One localkube process on a fresh data directory.
/// Started once, then only read by the concurrent clients.
public final class Server: @unchecked Sendable {
    public let process = Process()
    public let dir: URL
    public let port: Int
    public var token = ""

    /// `extra`: further localkube flags (its store, say).
    public init(bin: String, extra: [String] = []) throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("cubby-bench-\(UUID().uuidString)")
        port = freePort()
        process.executableURL = URL(fileURLWithPath: bin)
        process.arguments = ["localkube", "--data-dir", dir.path, "--port", String(port), "--driver", "simulated"] + extra
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
    }

    public var base: String { "https://127.0.0.1:\(port)" }

    /// Starts the process and returns the seconds until /readyz answered 200.
    public func start(_ client: HTTPClient) async throws -> Double {
        let t0 = now()
        try process.run()
        while now() - t0 < 30 {
            var req = HTTPClientRequest(url: base + "/readyz")
            req.method = .GET
            if let resp = try? await client.execute(req, timeout: .seconds(1)), resp.status == .ok {
                let elapsed = now() - t0
                token = try String(contentsOf: dir.appendingPathComponent("token"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
                return elapsed
            }
            try await Task.sleep(for: .milliseconds(2))
        }
        throw BenchError(description: "localkube did not become ready in 30 s")
    }

    public var rssMB: Double { rssOf(process.processIdentifier) }
}

/// The resident set of a process, in MB.
public func rssOf(_ pid: Int32) -> Double {
    let p = Process()
    let pipe = Pipe()
    p.executableURL = URL(fileURLWithPath: "/bin/ps")
    p.arguments = ["-o", "rss=", "-p", String(pid)]
    p.standardOutput = pipe
    try? p.run()
    p.waitUntilExit()
    let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    return (Double(out.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) / 1024
}

/// The CPU time a process has used so far (user and system), in seconds, from /proc: what
/// a figure per write divides.
public func cpuSecondsOf(_ pid: Int32) -> Double {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return 0 }
    // After the command's closing parenthesis: state is field 3, utime and stime fields 14 and 15.
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
    return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

extension Server {
    /// Ends the process, if it was started, and removes its data dir.
    public func stop() {
        if process.processIdentifier != 0 {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: dir)
    }

    public func request(_ path: String, method: HTTPMethod = .GET, body: String? = nil, contentType: String = "application/json") -> HTTPClientRequest {
        var req = HTTPClientRequest(url: base + path)
        req.method = method
        req.headers.add(name: "Authorization", value: "Bearer \(token)")
        if let body {
            req.headers.add(name: "Content-Type", value: contentType)
            req.body = .bytes(ByteBuffer(string: body))
        }
        return req
    }

    @discardableResult
    public func call(_ client: HTTPClient, _ req: HTTPClientRequest, expect: UInt = 200) async throws -> ByteBuffer {
        let resp = try await client.execute(req, timeout: .seconds(60))
        let body = try await resp.body.collect(upTo: 512 << 20)
        guard resp.status.code == expect else {
            throw BenchError(description: "\(req.method) \(req.url): \(resp.status.code) \(String(buffer: body).prefix(300))")
        }
        return body
    }
}

public func makeClient(http1Connections: Int? = nil) -> HTTPClient {
    var tls = TLSConfiguration.makeClientConfiguration()
    tls.certificateVerification = .none  // loopback only, against the server this program started
    var config = HTTPClient.Configuration(tlsConfiguration: tls)
    if let n = http1Connections {
        config.httpVersion = .http1Only
        config.connectionPool = .init(idleTimeout: .seconds(120), concurrentHTTP1ConnectionsPerHostSoftLimit: n)
    }
    config.timeout = .init(connect: .seconds(5), read: .seconds(120))
    return HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
}

public let payload = String(repeating: "x", count: 1000)

public func configMap(_ name: String) -> String {
    "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"\(name)\",\"labels\":{\"bench\":\"yes\"}},\"data\":{\"payload\":\"\(payload)\"}}"
}

/// Creates of 1 KB configmaps in `namespace` by `clients` concurrent clients (each its own
/// connection), `total` in all: the rate and each create's latency.
public func createLoad(_ server: Server, namespace: String, clients: Int, total: Int, name: String = "cm")
    async throws -> (perSecond: Double, latencies: [Double]) {
    let perClient = total / clients
    let writers = (0..<clients).map { _ in makeClient() }
    let t0 = now()
    let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
        for c in 0..<clients {
            let writer = writers[c]
            group.addTask {
                var took: [Double] = []
                took.reserveCapacity(perClient)
                for i in 0..<perClient {
                    let t = now()
                    try await server.call(writer, server.request("/api/v1/namespaces/\(namespace)/configmaps", method: .POST,
                                                                 body: configMap("\(name)-\(c)-\(i)")), expect: 201)
                    took.append(now() - t)
                }
                return took
            }
        }
        var all: [Double] = []
        for try await l in group { all += l }
        return all
    }
    let elapsed = now() - t0
    for w in writers { try await w.shutdown() }
    return (Double(perClient * clients) / elapsed, latencies)
}

/// Watch delivery latency: `watchers` watches of one namespace, `updates` patches one after
/// another; each delivery measured from the start of its write to its arrival.
public func watchDelivery(_ server: Server, _ client: HTTPClient, namespace: String = "watched", watchers: Int = 100,
                          updates: Int = 200) async throws -> [Double] {
    try await server.call(client, server.request("/api/v1/namespaces", method: .POST, body: "{\"metadata\":{\"name\":\"\(namespace)\"}}"), expect: 201)
    let created = try await server.call(client, server.request("/api/v1/namespaces/\(namespace)/configmaps", method: .POST, body: configMap("target")), expect: 201)
    let rv = try JSONSerialization.jsonObject(with: Data(created.readableBytesView)) as! [String: Any]
    let startRV = (rv["metadata"] as! [String: Any])["resourceVersion"] as! String
    let watchClient = makeClient(http1Connections: watchers + 28)
    let sentAt = SendTimes(count: updates)
    let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
        let ready = Counter()
        for _ in 0..<watchers {
            group.addTask {
                let resp = try await watchClient.execute(
                    server.request("/api/v1/namespaces/\(namespace)/configmaps?watch=1&resourceVersion=\(startRV)"), timeout: .seconds(120))
                await ready.increment()
                var got: [Double] = []
                var pending: [UInt8] = []
                for try await chunk in resp.body {
                    // Stamp the arrival before any client-side work: this measures the server's
                    // delivery, not how fast this process can parse 100 streams on 2 shared cores.
                    let t = now()
                    pending += chunk.readableBytesView
                    while let nl = pending.firstIndex(of: 10) {
                        let line = pending[..<nl]
                        if let seq = seqValue(line), let sent = sentAt.get(seq) {
                            got.append(t - sent)
                            if seq == updates - 1 { return got }
                        }
                        pending.removeSubrange(...nl)
                    }
                }
                return got
            }
        }
        while await ready.value < watchers { try await Task.sleep(for: .milliseconds(10)) }
        try await Task.sleep(for: .milliseconds(200))
        for seq in 0..<updates {
            let patch = "{\"data\":{\"seq\":\"\(seq)\"}}"
            sentAt.set(seq, now())
            try await server.call(client, server.request("/api/v1/namespaces/\(namespace)/configmaps/target", method: .PATCH, body: patch, contentType: "application/merge-patch+json"))
        }
        var all: [Double] = []
        for try await l in group { all += l }
        return all
    }
    try await watchClient.shutdown()
    return latencies
}

/// The number in `"seq":"N"` of a watch event line (the benchmark's own marker in data).
func seqValue(_ line: ArraySlice<UInt8>) -> Int? {
    let marker = Array(#""seq":""#.utf8)
    guard line.count > marker.count else { return nil }
    var i = line.startIndex
    while i <= line.endIndex - marker.count {
        if line[i..<(i + marker.count)].elementsEqual(marker) {
            var j = i + marker.count, value = 0
            while j < line.endIndex, let d = line[j].digitValue { value = value * 10 + d; j += 1 }
            return j > i + marker.count ? value : nil
        }
        i += 1
    }
    return nil
}

extension UInt8 {
    var digitValue: Int? { (48...57).contains(self) ? Int(self - 48) : nil }
}

/// When each update was sent, read by the watcher tasks.
final class SendTimes: @unchecked Sendable {
    private var times: [Double?]
    private let lock = NSLock()
    init(count: Int) { times = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ t: Double) { lock.lock(); times[i] = t; lock.unlock() }
    func get(_ i: Int) -> Double? { lock.lock(); defer { lock.unlock() }; return i < times.count ? times[i] : nil }
}

actor Counter {
    var value = 0
    func increment() { value += 1 }
}

