import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

// Measures localkube as a user's tools meet it, over HTTPS on loopback, and prints the figures
// docs/benchmarks.md records: cold start to /readyz, creates per second with 8 clients, a list of
// 10,000 objects, watch delivery latency with 100 watchers, and RSS idle and with 10,000 objects.
// Usage: cubby-bench [--bin PATH] [--objects N]

struct Options {
    var bin = ".build/release/cubby"
    var objects = 10_000
    init() {
        var args = CommandLine.arguments.dropFirst()
        while let a = args.popFirst() {
            switch a {
            case "--bin": bin = args.popFirst() ?? bin
            case "--objects": objects = Int(args.popFirst() ?? "") ?? objects
            default: fatalError("unknown argument \(a)")
            }
        }
    }
}

struct BenchError: Error, CustomStringConvertible { let description: String }

/// Prints a figure at once (stdout to a file would otherwise hold it until exit).
func report(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }

func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

func percentile(_ values: [Double], _ p: Double) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return .nan }
    return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
}

func ms(_ s: Double) -> String { String(format: "%.1f ms", s * 1000) }

func freePort() -> Int { Int.random(in: 20000...40000) }

/// One localkube process on a fresh data directory.
/// Started once, then only read by the concurrent clients.
final class Server: @unchecked Sendable {
    let process = Process()
    let dir: URL
    let port: Int
    var token = ""

    init(bin: String) throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("cubby-bench-\(UUID().uuidString)")
        port = freePort()
        process.executableURL = URL(fileURLWithPath: bin)
        process.arguments = ["localkube", "--data-dir", dir.path, "--port", String(port), "--driver", "simulated"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
    }

    var base: String { "https://127.0.0.1:\(port)" }

    /// Starts the process and returns the seconds until /readyz answered 200.
    func start(_ client: HTTPClient) async throws -> Double {
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

    var rssMB: Double {
        let p = Process()
        let pipe = Pipe()
        p.executableURL = URL(fileURLWithPath: "/bin/ps")
        p.arguments = ["-o", "rss=", "-p", String(process.processIdentifier)]
        p.standardOutput = pipe
        try? p.run()
        p.waitUntilExit()
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return (Double(out.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) / 1024
    }

    func stop() {
        process.terminate()
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: dir)
    }

    func request(_ path: String, method: HTTPMethod = .GET, body: String? = nil, contentType: String = "application/json") -> HTTPClientRequest {
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
    func call(_ client: HTTPClient, _ req: HTTPClientRequest, expect: UInt = 200) async throws -> ByteBuffer {
        let resp = try await client.execute(req, timeout: .seconds(60))
        let body = try await resp.body.collect(upTo: 512 << 20)
        guard resp.status.code == expect else {
            throw BenchError(description: "\(req.method) \(req.url): \(resp.status.code) \(String(buffer: body).prefix(300))")
        }
        return body
    }
}

func makeClient(http1Connections: Int? = nil) -> HTTPClient {
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

let payload = String(repeating: "x", count: 1000)

func configMap(_ name: String) -> String {
    "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"\(name)\",\"labels\":{\"bench\":\"yes\"}},\"data\":{\"payload\":\"\(payload)\"}}"
}

func run() async throws {
    let options = Options()
    let client = makeClient()
    report("cubby-bench: \(options.bin), \(ProcessInfo.processInfo.activeProcessorCount) cores")

    // 1. Cold start: a fresh data dir each time (certificates, store and namespaces made anew).
    var starts: [Double] = []
    for _ in 0..<5 {
        let s = try Server(bin: options.bin)
        starts.append(try await s.start(client))
        s.stop()
    }
    report("cold start to /readyz 200: median \(ms(percentile(starts, 0.5))) (min \(ms(starts.min()!)), max \(ms(starts.max()!)), 5 runs)")

    let server = try Server(bin: options.bin)
    _ = try await server.start(client)
    defer { server.stop() }
    try await Task.sleep(for: .seconds(2))
    report(String(format: "RSS idle: %.1f MB", server.rssMB))
    try await server.call(client, server.request("/api/v1/namespaces", method: .POST, body: "{\"metadata\":{\"name\":\"bench\"}}"), expect: 201)

    // 2. Creates per second: 8 concurrent clients (each its own connection, as 8 kubectl or
    // controller processes would be), 1 KB configmaps, until N objects exist.
    let perClient = options.objects / 8
    let writers = (0..<8).map { _ in makeClient() }
    let t0 = now()
    try await withThrowingTaskGroup(of: Void.self) { group in
        for c in 0..<8 {
            let writer = writers[c]
            group.addTask {
                for i in 0..<perClient {
                    try await server.call(writer, server.request("/api/v1/namespaces/bench/configmaps", method: .POST, body: configMap("cm-\(c)-\(i)")), expect: 201)
                }
            }
        }
        try await group.waitForAll()
    }
    let elapsed = now() - t0
    for w in writers { try await w.shutdown() }
    report(String(format: "creates/s with 8 clients (1 KB configmaps): %.0f (%d in %.2f s)", Double(perClient * 8) / elapsed, perClient * 8, elapsed))
    try await Task.sleep(for: .seconds(1))
    report(String(format: "RSS holding %d objects: %.1f MB", perClient * 8, server.rssMB))

    // 3. List latency, JSON and as kubectl's Table.
    var lists: [Double] = []
    var tables: [Double] = []
    var size = 0
    for _ in 0..<10 {
        var t = now()
        size = try await server.call(client, server.request("/api/v1/namespaces/bench/configmaps")).readableBytes
        lists.append(now() - t)
        var req = server.request("/api/v1/namespaces/bench/configmaps")
        req.headers.replaceOrAdd(name: "Accept", value: "application/json;as=Table;v=v1;g=meta.k8s.io,application/json")
        t = now()
        try await server.call(client, req)
        tables.append(now() - t)
    }
    report("list of \(perClient * 8) objects (\(size / 1024) KB JSON): median \(ms(percentile(lists, 0.5))), p99 \(ms(percentile(lists, 0.99))); as Table: median \(ms(percentile(tables, 0.5)))")

    // 4. Watch delivery latency: 100 watchers on one namespace, 200 updates one after another.
    try await server.call(client, server.request("/api/v1/namespaces", method: .POST, body: "{\"metadata\":{\"name\":\"watched\"}}"), expect: 201)
    let created = try await server.call(client, server.request("/api/v1/namespaces/watched/configmaps", method: .POST, body: configMap("target")), expect: 201)
    let rv = try JSONSerialization.jsonObject(with: Data(created.readableBytesView)) as! [String: Any]
    let startRV = (rv["metadata"] as! [String: Any])["resourceVersion"] as! String
    let watchClient = makeClient(http1Connections: 128)
    let updates = 200
    let sentAt = SendTimes(count: updates)
    let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
        let ready = Counter()
        for _ in 0..<100 {
            group.addTask {
                let resp = try await watchClient.execute(
                    server.request("/api/v1/namespaces/watched/configmaps?watch=1&resourceVersion=\(startRV)"), timeout: .seconds(120))
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
        while await ready.value < 100 { try await Task.sleep(for: .milliseconds(10)) }
        try await Task.sleep(for: .milliseconds(200))
        for seq in 0..<updates {
            let patch = "{\"data\":{\"seq\":\"\(seq)\"}}"
            sentAt.set(seq, now())
            try await server.call(client, server.request("/api/v1/namespaces/watched/configmaps/target", method: .PATCH, body: patch, contentType: "application/merge-patch+json"))
        }
        var all: [Double] = []
        for try await l in group { all += l }
        return all
    }
    try await watchClient.shutdown()
    try await client.shutdown()
    report("watch delivery latency, 100 watchers x \(updates) updates: p50 \(ms(percentile(latencies, 0.5))), p99 \(ms(percentile(latencies, 0.99))) (\(latencies.count) deliveries; measured from the start of each write)")
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

do {
    try await run()
} catch {
    FileHandle.standardError.write(Data("cubby-bench: \(error)\n".utf8))
    exit(1)
}
