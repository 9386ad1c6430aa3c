/// Where a resource's objects live in the store, as upstream's apiserver lays out etcd, so that
/// `etcdctl get --prefix /registry` reads as on any cluster: `/registry/<path>/[<namespace>/]<name>`.
public enum StoragePath {
    /// Built-in resources upstream keeps under older names than their plural.
    static let historical: [String: String] = [
        "services": "services/specs", "endpoints": "services/endpoints", "nodes": "minions",
        "ingresses": "ingress", "replicationcontrollers": "controllers",
    ]
    /// Groups whose resources upstream keys by group and plural, as it keys custom resources; and
    /// the metrics API (an aggregated API upstream, never stored), whose plurals are core's.
    static let groupQualified: Set<String> = ["apiextensions.k8s.io", "apiregistration.k8s.io", "metrics.k8s.io"]

    /// A built-in resource's path: its plural (or historical name), group-qualified for the
    /// apiextensions and apiregistration groups.
    public static func builtin(group: String, plural: String) -> String {
        groupQualified.contains(group) ? custom(group: group, plural: plural) : historical[plural] ?? plural
    }

    /// A custom resource's path: its group, then its plural.
    public static func custom(group: String, plural: String) -> String { "\(group)/\(plural)" }
}
