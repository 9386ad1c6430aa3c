import APIMachinery
import Foundation
import Resources

/// Empties a terminating namespace and then lets it go: what upstream's namespace controller does
/// for the "kubernetes" finalizer. It lives beside the registry until the controller manager exists.
public actor NamespaceFinalizer {
    let registry: Registry
    var inFlight: Set<String> = []

    public init(registry: Registry) { self.registry = registry }

    public func run() async {
        guard let nsDef = registry.catalog.lookup(group: "", version: "v1", plural: "namespaces") else { return }
        while !Task.isCancelled {
            guard let events = try? await registry.watch(nsDef, namespace: nil, options: ListOptions()) else {
                try? await Task.sleep(for: .seconds(1))
                continue
            }
            for await event in events where event.type != "DELETED" {
                let ns = event.object
                guard ns["metadata"]["deletionTimestamp"].string != nil,
                      (ns["spec"]["finalizers"].array ?? []).contains(.string("kubernetes")),
                      let name = ns["metadata"]["name"].string, !inFlight.contains(name) else { continue }
                inFlight.insert(name)
                Task { await self.finalize(name, nsDef) }
            }
        }
    }

    func finalize(_ namespace: String, _ nsDef: ResourceDefinition) async {
        defer { inFlight.remove(namespace) }
        var options = DeleteOptions()
        options.gracePeriodSeconds = 0
        while !Task.isCancelled {
            var remaining = 0
            for def in registry.catalog.all where def.namespaced && def.verbs.contains("deletecollection") {
                _ = try? await registry.deleteCollection(def, namespace: namespace, listOptions: ListOptions(), options: options)
                remaining += (try? await registry.list(def, namespace: namespace, options: ListOptions()).items.count) ?? 0
            }
            if remaining == 0 { break }
            // Objects held by their own finalizers: wait for them, as upstream does.
            try? await Task.sleep(for: .seconds(1))
        }
        _ = try? await registry.patch(nsDef, namespace: nil, name: namespace) { ns throws(StatusError) in
            var o = ns
            o["spec"]["finalizers"] = .array((ns["spec"]["finalizers"].array ?? []).filter { $0 != .string("kubernetes") })
            return o
        }
    }
}
