import AsyncHTTPClient
import BenchKit
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

// Measures localkube as a user's tools meet it, over HTTPS on loopback, and prints the figures
// docs/benchmarks.md records: cold start to /readyz, creates per second with 8 clients, a list of
// 10,000 objects, watch delivery latency with 100 watchers, and RSS idle and with 10,000 objects.
// Usage: cubby-bench [--bin PATH] [--objects N]

func run() async throws {
    let options = BenchOptions()
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
    let (rate, _) = try await createLoad(server, namespace: "bench", clients: 8, total: options.objects)
    report(String(format: "creates/s with 8 clients (1 KB configmaps): %.0f (%d objects)", rate, perClient * 8))
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
    let updates = 200
    let latencies = try await watchDelivery(server, client, watchers: 100, updates: updates)
    try await client.shutdown()
    report("watch delivery latency, 100 watchers x \(updates) updates: p50 \(ms(percentile(latencies, 0.5))), p99 \(ms(percentile(latencies, 0.99))) (\(latencies.count) deliveries; measured from the start of each write)")
}

do {
    try await run()
} catch {
    FileHandle.standardError.write(Data("cubby-bench: \(error)\n".utf8))
    exit(1)
}
