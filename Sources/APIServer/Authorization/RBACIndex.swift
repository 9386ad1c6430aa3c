import APIMachinery
import Registry
import Synchronization

/// The RBAC objects parsed once and kept current by watches on the registry, as upstream's RBAC
/// authorizer reads them from informers: a request looks up bindings and rules in memory instead
/// of listing and parsing every binding.
final class RBACIndex: Sendable {
    /// One kind of RBAC object, by namespace ("" for cluster-scoped) then name.
    struct Objects: Sendable {
        var byNamespace: [String: [String: JSON]] = [:]
        /// Whether the watch has delivered the whole current state.
        var synced = false

        func all(in namespace: String) -> Dictionary<String, JSON>.Values? { byNamespace[namespace]?.values }
        func get(_ namespace: String, _ name: String) -> JSON? { byNamespace[namespace]?[name] }
    }

    static let plurals = ["clusterroles", "clusterrolebindings", "roles", "rolebindings"]
    let registry: Registry
    private let state = Mutex<[String: Objects]>([:])

    init(registry: Registry) { self.registry = registry }

    /// The four kinds as they are now; nil until every watch has delivered its initial state.
    func snapshot() -> [String: Objects]? {
        let current = state.withLock { $0 }
        return Self.plurals.allSatisfy({ current[$0]?.synced == true }) ? current : nil
    }

    /// Follows each kind until cancelled; a watch that ends (its timeout, a restart of the
    /// store's history) is opened again from the current state.
    func run() async {
        await withDiscardingTaskGroup { group in
            for plural in Self.plurals { group.addTask { await self.follow(plural) } }
        }
    }

    private func follow(_ plural: String) async {
        guard let def = registry.catalog.lookup(group: "rbac.authorization.k8s.io", version: "v1", plural: plural) else { return }
        var options = ListOptions()
        options.sendInitialEvents = true
        options.resourceVersionMatch = "NotOlderThan"
        options.allowWatchBookmarks = true
        while !Task.isCancelled {
            guard let events = try? await registry.watch(def, namespace: nil, options: options) else {
                try? await Task.sleep(for: .seconds(1))
                continue
            }
            // Until the state is whole again, requests are decided from fresh reads.
            var fresh = Objects()
            var live = false
            for await event in events {
                let meta = event.object["metadata"]
                if event.type == "BOOKMARK" {
                    guard !live, meta["annotations"]["k8s.io/initial-events-end"].string == "true" else { continue }
                    live = true
                    fresh.synced = true
                    state.withLock { [fresh] in $0[plural] = fresh }
                    continue
                }
                guard let name = meta["name"].string else { continue }
                let namespace = meta["namespace"].string ?? ""
                if live {
                    state.withLock { all in
                        if event.type == "DELETED" {
                            all[plural]?.byNamespace[namespace]?[name] = nil
                        } else {
                            all[plural, default: Objects()].byNamespace[namespace, default: [:]][name] = event.object
                        }
                    }
                } else if event.type != "DELETED" {
                    fresh.byNamespace[namespace, default: [:]][name] = event.object
                }
            }
            state.withLock { $0[plural]?.synced = false }
        }
    }
}
