import APIMachinery
import Foundation
import Nodes
import Proxy

// Rule sync figures of the service proxy (docs/benchmarks.md): 1,000 services x 10 endpoints
// written as one full sync, then one endpoint changed at a time (what a pod turning ready or
// unready costs). Needs root and nft. The table is a scratch one of the benchmark's own, and its
// addresses are from the benchmarking range (198.18.0.0/15), so no cluster's traffic is touched.

let table = "cubby-proxy-bench"
let configuration = ProxyRuleset.Configuration(podCIDR: "198.19.0.0/16", serviceCIDR: "198.18.0.0/16", nodeAddresses: ["198.18.255.1", "127.0.0.1"], masqueradePodTraffic: false)
let services = Int(CommandLine.arguments.dropFirst().first ?? "") ?? 1000
let endpointsPerService = 10

func service(_ i: Int) -> JSON {
    ["metadata": ["name": .string("svc-\(i)"), "namespace": "bench"],
     "spec": ["type": "NodePort", "clusterIP": .string("198.18.\(i / 250).\(i % 250 + 1)"), "clusterIPs": [.string("198.18.\(i / 250).\(i % 250 + 1)")],
              "ports": [["name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP", "nodePort": .int(Int64(30000 + i))]]]]
}

func slice(_ i: Int, skipping: Int? = nil) -> JSON {
    let endpoints: [JSON] = (0..<endpointsPerService).filter { $0 != skipping }.map { e in
        ["addresses": [.string("198.19.\(i / 25).\((i % 25) * 10 + e + 1)")], "conditions": ["ready": true], "nodeName": "bench"]
    }
    return ["addressType": "IPv4", "ports": [["name": "http", "port": 8080, "protocol": "TCP"]], "endpoints": .array(endpoints)]
}

/// One service's rules, as the proxy keeps them.
func rules(_ i: Int, skipping: Int? = nil) -> ProxyRuleset {
    ProxyRuleset(ServicePort.of(service(i), slices: [slice(i, skipping: skipping)], nodeName: "bench"), configuration: configuration)
}

func ms(_ d: Duration) -> String { String(format: "%.1f ms", Double(d.components.attoseconds) / 1e15 + Double(d.components.seconds) * 1000) }

let clock = ContinuousClock()
let script = NFTablesScript(table: table, configuration: configuration)
do {
    var start = clock.now
    var perService = (0..<services).map { rules($0) }
    let full = ProxyRuleset(merging: perService)
    let computed = clock.now - start
    let text = script.full(full, previous: nil, fresh: true)
    start = clock.now
    try await NFTables.apply(text)
    let applied = clock.now - start
    print("services: \(services) x \(endpointsPerService) endpoints: \(full.chains.count) chains, \(text.split(separator: "\n").count) script lines")
    print("full sync: compute \(ms(computed)), nft apply \(ms(applied)), total \(ms(computed + applied))")

    var totals: [Duration] = [], applies: [Duration] = []
    for round in 0..<10 {
        // What the proxy does when one EndpointSlice changes: that service's rules, the
        // difference from what it applied for it, one nft transaction.
        start = clock.now
        let i = round * 97 % services
        let next = rules(i, skipping: round % endpointsPerService)
        guard let change = script.partial(from: perService[i], to: next) else { fatalError("partial sync refused") }
        let computedAt = clock.now
        try await NFTables.apply(change)
        applies.append(clock.now - computedAt)
        totals.append(clock.now - start)
        perService[i] = next
    }
    totals.sort()
    applies.sort()
    print("one endpoint changed (10 rounds): median \(ms(totals[5])) (nft apply \(ms(applies[5]))), max \(ms(totals[9]))")
} catch {
    print("benchmark failed: \(error)")
}
await NFTables.deleteTable(table)
