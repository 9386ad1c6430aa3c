import APIMachinery
import Registry
import Resources

/// Fills the rules of every cluster role with an aggregationRule from the cluster roles its
/// selectors pick (admin, edit and view grow when a CRD's role carries their label), as
/// upstream's clusterrole-aggregation controller does. It follows the clusterroles watch.
public struct ClusterRoleAggregation: Sendable {
    let registry: Registry

    public init(registry: Registry) { self.registry = registry }

    public func run() async {
        guard let def = registry.catalog.lookup(group: "rbac.authorization.k8s.io", version: "v1", plural: "clusterroles") else { return }
        while !Task.isCancelled {
            guard let events = try? await registry.watch(def, namespace: nil, options: ListOptions()) else {
                try? await Task.sleep(for: .seconds(1))
                continue
            }
            await reconcile(def)
            for await _ in events { await reconcile(def) }
        }
    }

    func reconcile(_ def: ResourceDefinition) async {
        guard let page = try? await registry.list(def, namespace: nil, options: ListOptions()) else { return }
        let roles = page.items.compactMap { try? JSON.parse($0) }
            .sorted { ($0["metadata"]["name"].string ?? "") < ($1["metadata"]["name"].string ?? "") }
        for role in roles {
            guard let selectors = role["aggregationRule"]["clusterRoleSelectors"].array, let name = role["metadata"]["name"].string else { continue }
            let matchers = selectors.compactMap { try? LabelSelector.fromStructured($0) }
            var rules: [JSON] = []
            for other in roles where other["metadata"]["name"].string != name {
                let labels = other["metadata"]["labels"].stringMap
                guard matchers.contains(where: { $0.matches(labels) }) else { continue }
                for rule in other["rules"].array ?? [] where !rules.contains(rule) { rules.append(rule) }
            }
            guard (role["rules"].array ?? []) != rules else { continue }
            let aggregated = JSON.array(rules)
            _ = try? await registry.patch(def, namespace: nil, name: name, options: .init(fieldManager: "clusterrole-aggregation-controller")) { current throws(StatusError) in
                var o = current
                o["rules"] = aggregated
                return o
            }
        }
    }
}
