import BenchKit
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import GRPCTransport
import Storage

// Cubby's stores side by side, in one run, same payload (1 KB configmaps) and the same client
// concurrency (8 and 64): raw etcd puts through etcd's gRPC API, Cubby on SQLite, Cubby on that
// same etcd. Creates/s, p50/p99 latency, watch delivery, and the RSS of each process.
// Usage: cubby-store-bench [--bin PATH] [--objects N] [--stores sqlite,etcd]

/// A single-member etcd (Debian's etcd-server) on loopback ports, in a temporary directory.
final class Etcd: @unchecked Sendable {
    let process = Process()
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cubby-store-bench-\(UUID().uuidString)")
    let clientPort = freePort(), peerPort = freePort()

    init() throws {
        let client = "http://127.0.0.1:\(clientPort)", peer = "http://127.0.0.1:\(peerPort)"
        process.executableURL = URL(fileURLWithPath: "/usr/bin/etcd")
        process.arguments = ["--name", "bench", "--data-dir", dir.path, "--listen-client-urls", client, "--advertise-client-urls", client,
                             "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, "--initial-cluster", "bench=\(peer)",
                             "--log-level", "error"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    var servers: String { "http://127.0.0.1:\(clientPort)" }

    func stop() {
        process.terminate()
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: dir)
    }
}

/// `total` writes by `clients` concurrent callers, each its `write(client, index)` in turn: the
/// rate and each write's latency.
func timedWrites(clients: Int, total: Int, _ write: @escaping @Sendable (Int, Int) async throws -> Void) async throws -> (Double, [Double]) {
    let perClient = total / clients
    let t0 = now()
    let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
        for c in 0..<clients {
            group.addTask {
                var took: [Double] = []
                for i in 0..<perClient {
                    let t = now()
                    try await write(c, i)
                    took.append(now() - t)
                }
                return took
            }
        }
        var all: [Double] = []
        for try await l in group { all += l }
        return all
    }
    return (Double(perClient * clients) / (now() - t0), latencies)
}

/// Plain etcd puts of 1 KB values by `clients` concurrent callers over gRPC: etcd's own rate.
func rawPuts(_ etcd: Etcd, clients: Int, total: Int, round: Int) async throws -> (Double, [Double]) {
    let transport = try RotatingTransport(callsPerConnection: 100) {
        try HTTP2ClientTransport.Posix(target: .ipv4(address: "127.0.0.1", port: etcd.clientPort), transportSecurity: .plaintext)
    }
    let client = GRPCClient(transport: transport)
    let connections = Task { try await client.runConnections() }
    defer {
        client.beginGracefulShutdown()
        connections.cancel()
    }
    let kv = Etcdserverpb_KV.Client(wrapping: client)
    let value = Data(configMap("raw").utf8)
    // Wait for etcd to answer at all (its first election).
    for _ in 0..<200 {
        var probe = Etcdserverpb_RangeRequest()
        probe.key = Data("/".utf8)
        if (try? await kv.range(probe)) != nil { break }
        try await Task.sleep(for: .milliseconds(50))
    }
    return try await timedWrites(clients: clients, total: total) { c, i in
        var put = Etcdserverpb_PutRequest()
        put.key = Data("/raw/\(round)/\(c)/\(i)".utf8)
        put.value = value
        _ = try await kv.put(put)
    }
}

/// Creates through Cubby's etcd store itself, in this process (no HTTP, no API server): what the
/// store adds to a raw put (a compared Txn, its event through the store's etcd watch).
func storePuts(_ etcd: Etcd, clients: Int, total: Int) async throws -> (Double, [Double]) {
    let store = try await EtcdStore(configuration: EtcdConfiguration(servers: etcd.servers, prefix: "/store-bench-\(clients)"))
    let value = Data(configMap("store").utf8)
    let result = try await timedWrites(clients: clients, total: total) { c, i in
        _ = try await store.create("/registry/configmaps/bench/\(c)-\(i)", encode: { _ in value })
    }
    await store.close()
    return result
}

func line(_ what: String, _ rate: Double, _ latencies: [Double], raw: Double) -> String {
    String(format: "%-34@ %7.0f creates/s  p50 %6@  p99 %6@  %4.2fx raw etcd", what as NSString, rate,
           ms(percentile(latencies, 0.5)) as NSString, ms(percentile(latencies, 0.99)) as NSString, rate / raw)
}

/// CPU time per write of each process taking part, from their CPU seconds before and after.
struct CPUShare {
    let pids: [(String, Int32)]
    let before: [Double]
    init(_ pids: [(String, Int32)]) {
        self.pids = pids
        before = pids.map { cpuSecondsOf($0.1) }
    }
    func perWrite(_ writes: Int) -> String {
        let used = zip(pids, before).map { String(format: "%@ %.0f us", $0.0.0 as NSString, (cpuSecondsOf($0.0.1) - $0.1) / Double(writes) * 1e6) }
        return "  CPU per write: " + used.joined(separator: ", ")
    }
}

func run() async throws {
    let options = BenchOptions(extra: ["stores": "sqlite,etcd"])
    let measured = (options.extra["stores"] ?? "").split(separator: ",")
    report("cubby-store-bench: \(options.bin), \(ProcessInfo.processInfo.activeProcessorCount) cores, \(options.objects) creates per measurement")
    let etcd = try Etcd()
    defer { etcd.stop() }
    let client = makeClient()
    var raw: [Int: Double] = [:]
    for (round, clients) in [8, 64].enumerated() {
        let cpu = CPUShare([("etcd", etcd.process.processIdentifier), ("client", getpid())])
        let (rate, latencies) = try await rawPuts(etcd, clients: clients, total: options.objects, round: round)
        raw[clients] = rate
        report(line("raw etcd puts, \(clients) clients", rate, latencies, raw: rate) + cpu.perWrite(latencies.count))
    }
    for clients in [8, 64] {
        let cpu = CPUShare([("etcd", etcd.process.processIdentifier), ("client", getpid())])
        let (rate, latencies) = try await storePuts(etcd, clients: clients, total: options.objects)
        report(line("Cubby's etcd store alone, \(clients) clients", rate, latencies, raw: raw[clients]!) + cpu.perWrite(latencies.count))
    }
    report(String(format: "etcd RSS after the raw and store-alone puts: %.1f MB", rssOf(etcd.process.processIdentifier)))

    let stores = [("sqlite", "SQLite", [String]()), ("etcd", "etcd", ["--store", "etcd", "--etcd-servers", etcd.servers, "--etcd-prefix", "/cubby-bench"])]
    for (name, store, extra) in stores where measured.contains(where: { $0 == name }) {
        let server = try Server(bin: options.bin, extra: extra)
        _ = try await server.start(client)
        defer { server.stop() }
        try await Task.sleep(for: .seconds(3))
        let idle = server.rssMB
        for clients in [8, 64] {
            let ns = "bench-\(clients)"
            try await server.call(client, server.request("/api/v1/namespaces", method: .POST, body: "{\"metadata\":{\"name\":\"\(ns)\"}}"), expect: 201)
            let cpu = CPUShare([("localkube", server.process.processIdentifier)] + (name == "etcd" ? [("etcd", etcd.process.processIdentifier)] : [])
                               + [("client", getpid())])
            let (rate, latencies) = try await createLoad(server, namespace: ns, clients: clients, total: options.objects)
            report(line("Cubby on \(store), \(clients) clients", rate, latencies, raw: raw[clients]!) + cpu.perWrite(latencies.count))
        }
        let watch = try await watchDelivery(server, client, watchers: 100, updates: 200)
        report("Cubby on \(store): watch delivery, 100 watchers x 200 updates: p50 \(ms(percentile(watch, 0.5))), p99 \(ms(percentile(watch, 0.99)))")
        report(String(format: "Cubby on %@: localkube RSS idle %.1f MB, after %d objects %.1f MB", store as NSString, idle, 2 * options.objects, server.rssMB))
        if store == "etcd" { report(String(format: "etcd RSS at the end: %.1f MB", rssOf(etcd.process.processIdentifier))) }
    }
    try await client.shutdown()
}

do {
    try await run()
} catch {
    FileHandle.standardError.write(Data("cubby-store-bench: \(error)\n".utf8))
    exit(1)
}
