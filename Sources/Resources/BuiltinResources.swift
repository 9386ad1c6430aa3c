import APIMachinery

/// Every built-in resource Cubby serves, group by group, and the schemas their objects are read
/// through: upstream's definitions (Generated/), the hand-written ones only where upstream has none.
public enum BuiltinResources {
    public static let all: [ResourceDefinition] = CoreV1.resources + AppsV1.resources + BatchV1.resources + DiscoveryV1.resources
        + CoordinationV1.resources + [Events.eventsV1] + NetworkingV1.resources + StorageV1.resources + RbacV1.resources
        + ApiextensionsV1.resources + ReviewResources.resources + PolicyV1.resources + SchedulingV1.resources + NodeV1.resources
        + ApiregistrationV1.resources + MetricsV1beta1.resources + StoredResources.resources

    public static let schemas: SchemaDefinitions = UpstreamSchemas.definitions.filling(
        ApiextensionsV1.schemas.merging(ReviewResources.schemas) { a, _ in a }.merging(PolicyV1.schemas) { a, _ in a }
            .merging(SchedulingV1.schemas) { a, _ in a }.merging(NodeV1.schemas) { a, _ in a }
            .merging(ApiregistrationV1.schemas) { a, _ in a }.merging(StoredResources.schemas) { a, _ in a })
}
