import APIMachinery
import Client

/// Upstream's clusterrole-aggregation controller: the rules of every cluster role with an
/// aggregationRule are those of the cluster roles its selectors pick (admin, edit and view grow
/// when a CRD's role carries their label). Any cluster role's change can change any aggregate, so
/// every change queues one key and the aggregates are recomputed together (a burst, once).
public struct ClusterRoleAggregationController: Controller {
    public let name = "clusterrole-aggregation"
    public let queue = WorkQueue()
    /// There is one thing to reconcile: all aggregated roles.
    static let everyAggregate = "aggregated-cluster-roles"
    let client: Client
    let roles: Informer

    public init(client: Client, informers: InformerFactory) {
        self.client = client
        roles = informers.informer("rbac.authorization.k8s.io", "v1", "clusterroles")
    }

    public var workers: Int { 1 }

    public func register() async {
        let queue = queue
        await roles.addHandler { _ in queue.add(Self.everyAggregate) }
    }

    public func reconcile(_ key: String) async throws {
        let all = await roles.list().sorted { ($0["metadata"]["name"].string ?? "") < ($1["metadata"]["name"].string ?? "") }
        for role in all {
            guard let selectors = role["aggregationRule"]["clusterRoleSelectors"].array, let name = role["metadata"]["name"].string else { continue }
            let matchers = selectors.compactMap { try? LabelSelector.fromStructured($0) }
            var rules: [JSON] = []
            for other in all where other["metadata"]["name"].string != name && matchers.contains(where: { $0.matches(other["metadata"]["labels"].stringMap) }) {
                for rule in other["rules"].array ?? [] where !rules.contains(rule) { rules.append(rule) }
            }
            guard (role["rules"].array ?? []) != rules else { continue }
            let aggregated = JSON.array(rules)
            do throws(StatusError) {
                try await client.resource("rbac.authorization.k8s.io", "v1", "clusterroles").modify(nil, name) { $0["rules"] = aggregated }
            } catch {
                if error.code != 404 { throw error }
            }
        }
    }
}
