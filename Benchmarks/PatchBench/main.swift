// cubby-patch-bench: the write engines in process, on this machine's cores.
// - strategic merge patch of a 50-container pod (one container's image changed, one added)
// - server-side apply of a 200-field object (a configmap of 200 keys) by a second manager over
//   an object the first manager applied, with its managedFields computed and conflicts checked
// - a create through the admission chain and without it, the typed decoding check and the
//   unknown-field check of the 50-container pod
// Prints the median and p99 of repeated runs.
import APIMachinery
import Dispatch
import Foundation
import Registry
import Resources
import Storage

func measure(_ runs: Int, _ body: () throws -> Void) rethrows -> (median: Double, p99: Double) {
    for _ in 0..<20 { try body() }  // warm up
    var times: [Double] = []
    for _ in 0..<runs {
        let t0 = DispatchTime.now().uptimeNanoseconds
        try body()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
    }
    times.sort()
    return (times[runs / 2], times[min(runs - 1, runs * 99 / 100)])
}

func report(_ name: String, _ r: (median: Double, p99: Double)) {
    print(String(format: "%@: median %.3f ms, p99 %.3f ms", name, r.median, r.p99))
}

// Upstream's definitions, as localkube reads them, with the hand-written ones for what they lack.
let schemas = BuiltinResources.schemas

// 1. Strategic merge patch, 50 containers.
var containers: [JSON] = []
for i in 0..<50 {
    containers.append(["name": .string("c\(i)"), "image": .string("registry.local/app-\(i):1.0"),
                       "ports": [["containerPort": .int(Int64(8000 + i)), "protocol": "TCP"]],
                       "env": [["name": "MODE", "value": "fast"], ["name": "INDEX", "value": .string(String(i))]],
                       "resources": ["requests": ["cpu": "10m", "memory": "16Mi"]]])
}
let pod: JSON = ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "big", "namespace": "default"],
                 "spec": ["containers": .array(containers)]]
let patch: JSON = ["spec": ["containers": [["name": "c25", "image": "registry.local/app-25:2.0"],
                                           ["name": "c50", "image": "registry.local/extra:1.0"]]]]
let smp = StrategicMergePatch(definitions: schemas)
let patched = try smp.apply(patch, to: pod, schemaName: "io.k8s.api.core.v1.Pod")
precondition(patched["spec"]["containers"].array?.count == 51 && patched["spec"]["containers"][25]["image"] == "registry.local/app-25:2.0")
report("strategic merge patch, 50-container pod", try measure(2000) { _ = try smp.apply(patch, to: pod, schemaName: "io.k8s.api.core.v1.Pod") })

// 2. Server-side apply, 200 fields.
guard let configMaps = BuiltinResources.all.first(where: { $0.group.isEmpty && $0.plural == "configmaps" }) else { fatalError("no configmaps") }
var data: [String: JSON] = [:]
for i in 0..<200 { data["key-\(i)"] = .string("value-\(i)") }
let applied: JSON = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "wide", "namespace": "default"], "data": .object(data)]
let manager = FieldManager(typed: TypedFields(definitions: schemas))
let live = try manager.apply(live: nil, applied: applied, def: configMaps, manager: "first", force: false, now: "2026-11-25T00:00:00Z")
var second = applied
second["data"]["key-7"] = "changed"
second["data"]["key-200"] = "new"
// The second manager co-owns 199 fields, takes one over by force and adds one.
let result = try manager.apply(live: live, applied: second, def: configMaps, manager: "second", force: true, now: "2026-11-25T00:00:01Z")
precondition(result["data"]["key-7"] == "changed" && result["metadata"]["managedFields"].array?.count == 2)
report("server-side apply, 200-field object", try measure(2000) {
    _ = try manager.apply(live: live, applied: second, def: configMaps, manager: "second", force: true, now: "2026-11-25T00:00:01Z")
})

// 3. The admission chain's cost per create: the same creates through a registry with upstream's
//    chain and through one with none (both decode types and validate), on SQLite in a temp folder.
/// The benchmark's scratch folder: its SQLite stores, removed when it ends.
let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("cubby-patch-bench-\(UUID().uuidString)")
defer { try? FileManager.default.removeItem(at: scratch) }

func registry(_ admission: [any AdmissionPlugin]) async throws -> Registry {
    let dir = scratch.appendingPathComponent(UUID().uuidString)
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let store = try SQLiteStore(path: dir.appendingPathComponent("state.db").path)
    let registry = Registry(store: store, catalog: ResourceCatalog(builtin: BuiltinResources.all,
                                                                    schemas: schemas), admission: admission)
    let core = { (plural: String) in registry.catalog.lookup(group: "", version: "v1", plural: plural)! }
    _ = try await registry.create(core("namespaces"), namespace: nil, body: ["metadata": ["name": "default"]])
    _ = try await registry.create(core("serviceaccounts"), namespace: "default", body: ["metadata": ["name": "default"]])
    return registry
}

/// The median time of one create, in microseconds, over `count` creates after a warm-up.
func perCreate(_ registry: Registry, _ plural: String, _ body: (Int) -> JSON, count: Int, from start: Int) async throws -> Double {
    let def = registry.catalog.lookup(group: "", version: "v1", plural: plural)!
    var times: [Double] = []
    for i in start..<(start + count) {
        let t0 = DispatchTime.now().uptimeNanoseconds
        _ = try await registry.create(def, namespace: "default", body: body(i))
        times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e3)
    }
    return times.sorted()[times.count / 2]
}

let configMap = { (i: Int) -> JSON in ["metadata": ["name": .string("cm\(i)")], "data": ["a": "b"]] }
let smallPod = { (i: Int) -> JSON in
    ["metadata": ["name": .string("p\(i)")], "spec": ["containers": [["name": "c", "image": "busybox", "resources": ["requests": ["cpu": "10m"]]]]]]
}
let bare = try await registry([]), chained = try await registry(AdmissionChain.standard(serviceIPs: ServiceIPAllocator()))
for (plural, body) in [("configmaps", configMap), ("pods", smallPod)] {
    // Alternated in rounds, so both see the machine alike; the median of each round's medians.
    var without: [Double] = [], with: [Double] = []
    for round in 0..<6 {
        without.append(try await perCreate(bare, plural, body, count: 500, from: round * 500))
        with.append(try await perCreate(chained, plural, body, count: 500, from: round * 500))
    }
    let a = without.sorted()[3], b = with.sorted()[3]
    print(String(format: "create of a %@ through the admission chain: %.0f us median (%.0f us without it; the chain costs %.0f us)",
                 String(plural.dropLast()), b, a, b - a))
}
let typedPod = pod
report("typed decoding check of a 50-container pod", measure(2000) { _ = TypedDecoding.firstError(typedPod, message: "core.v1.Pod") })
let podSchema = UpstreamSchemas.definitions["io.k8s.api.core.v1.Pod"]!
report("unknown-field check of a 50-container pod (upstream's definitions)", measure(2000) {
    var copy = typedPod
    precondition(SchemaPruner.prune(&copy, podSchema, root: true, definitions: UpstreamSchemas.definitions).isEmpty)
})
