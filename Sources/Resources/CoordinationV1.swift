import APIMachinery

/// coordination.k8s.io/v1: Lease (node heartbeats, leader election).
public enum CoordinationV1 {
    public static let resources: [ResourceDefinition] = [
        .v1("coordination.k8s.io", "Lease", "leases", columns: [.field("Holder", ["spec", "holderIdentity"], none: ""), .age]),
    ]
}
