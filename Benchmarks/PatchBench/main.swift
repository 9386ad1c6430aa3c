// cubby-patch-bench: the write engines in process, on this machine's cores.
// - strategic merge patch of a 50-container pod (one container's image changed, one added)
// - server-side apply of a 200-field object (a configmap of 200 keys) by a second manager over
//   an object the first manager applied, with its managedFields computed and conflicts checked
// - a create through the admission chain and without it, the typed decoding check and the
//   unknown-field check of the 50-container pod
// - patches of hostile size (issue 17): a JSON patch of 20,000 adds, a merge patch of 100,000
//   keys, a strategic merge of a 5,000-item list, server-side apply of 20,000 keys and of a
//   5,000-item list, and the managedFields an update of 20,000 keys records
// Prints the median and p99 of repeated runs.
import APIMachinery
import Dispatch
import Foundation
import Registry
import Resources
import Storage

func measure(_ runs: Int, warmUp: Int = 20, _ body: () throws -> Void) rethrows -> (median: Double, p99: Double) {
    for _ in 0..<warmUp { try body() }
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

// 4. Patches of hostile size: each engine must stay linear in the patch and the object, so one
//    client cannot keep a core busy for seconds with a request under the 3 MiB body limit.
//    (The API refuses JSON patches of more than 10,000 operations, as upstream does; the engine
//    is measured beyond that.)
func keys(_ n: Int, _ prefix: String = "key-") -> JSON {
    var data: [String: JSON] = [:]
    for i in 0..<n { data["\(prefix)\(i)"] = .string("value-\(i)") }
    return .object(data)
}
let emptyMap: JSON = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "big", "namespace": "default"], "data": ["seed": "x"]]
let adds = JSON.array((0..<20_000).map { i in ["op": "add", "path": .string("/data/key-\(i)"), "value": .string("value-\(i)")] })
let added = try JSONPatch.apply(adds, to: emptyMap, maxOperations: .max)
precondition(added["data"].object?.count == 20_001)
report("JSON patch of 20,000 adds to a configmap", try measure(9, warmUp: 1) { _ = try JSONPatch.apply(adds, to: emptyMap, maxOperations: .max) })

let wide: JSON = ["data": keys(100_000)]
precondition(MergePatch.apply(wide, to: emptyMap)["data"].object?.count == 100_001)
report("merge patch of 100,000 keys to a configmap", measure(9, warmUp: 1) { _ = MergePatch.apply(wide, to: emptyMap) })

func env(_ n: Int, _ value: String) -> JSON {
    .array((0..<n).map { i in ["name": .string("VAR_\(i)"), "value": .string("\(value)-\(i)")] })
}
var longPod = pod
longPod["spec"]["containers"] = [["name": "app", "image": "busybox", "env": env(5_000, "old")]]
let longPatch: JSON = ["spec": ["containers": [["name": "app", "env": env(5_000, "new")]]]]
let longPatched = try smp.apply(longPatch, to: longPod, schemaName: "io.k8s.api.core.v1.Pod")
precondition(longPatched["spec"]["containers"][0]["env"][4_999]["value"] == "new-4999")
report("strategic merge patch of a 5,000-item list (env by name)", try measure(9, warmUp: 1) {
    _ = try smp.apply(longPatch, to: longPod, schemaName: "io.k8s.api.core.v1.Pod")
})

guard let pods = BuiltinResources.all.first(where: { $0.group.isEmpty && $0.plural == "pods" }) else { fatalError("no pods") }
let bigApplied: JSON = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "big", "namespace": "default"], "data": keys(20_000)]
let bigLive = try manager.apply(live: nil, applied: bigApplied, def: configMaps, manager: "first", force: false, now: "2026-11-25T00:00:00Z")
var bigSecond = bigApplied
bigSecond["data"] = keys(20_000, "other-")
report("server-side apply of 20,000 keys over 20,000 another manager owns", try measure(9, warmUp: 1) {
    _ = try manager.apply(live: bigLive, applied: bigSecond, def: configMaps, manager: "second", force: false, now: "2026-11-25T00:00:01Z")
})
var appliedPod = longPod
appliedPod["metadata"] = ["name": "big", "namespace": "default"]
let podLive = try manager.apply(live: nil, applied: appliedPod, def: pods, manager: "first", force: false, now: "2026-11-25T00:00:00Z")
var shrunk = appliedPod
shrunk["spec"]["containers"] = [["name": "app", "image": "busybox", "env": env(1, "old")]]
let shrunkResult = try manager.apply(live: podLive, applied: shrunk, def: pods, manager: "first", force: false, now: "2026-11-25T00:00:01Z")
precondition(shrunkResult["spec"]["containers"][0]["env"].array?.count == 1)
report("server-side apply of a 5,000-item list cut to one item (4,999 removed)", try measure(9, warmUp: 1) {
    _ = try manager.apply(live: podLive, applied: shrunk, def: pods, manager: "first", force: false, now: "2026-11-25T00:00:01Z")
})
let updater = FieldManager(typed: TypedFields(definitions: schemas))
report("managedFields of an update that adds 20,000 keys", try measure(9, warmUp: 1) {
    _ = try updater.update(old: emptyMap, new: bigApplied, def: configMaps, subresource: nil, manager: "kubectl-patch", now: "2026-11-25T00:00:01Z")
})
