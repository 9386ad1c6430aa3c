import APIMachinery

/// Every built-in resource Cubby serves, group by group, and the schemas their objects are read
/// through: upstream's definitions (Generated/).
public enum BuiltinResources {
    public static let all: [ResourceDefinition] = (CoreV1.resources + AppsV1.resources + BatchV1.resources + DiscoveryV1.resources
        + CoordinationV1.resources + [Events.eventsV1] + NetworkingV1.resources + StorageV1.resources + RbacV1.resources
        + ApiextensionsV1.resources + ReviewResources.resources + PolicyV1.resources + SchedulingV1.resources + NodeV1.resources
        + ApiregistrationV1.resources + MetricsV1beta1.resources + CertificatesV1.resources + AdmissionregistrationV1.resources + AutoscalingV2.resources + StoredResources.resources).map { def in
            // Kept where upstream keeps it (a converted version where its stored version is).
            var def = def
            def.storagePath = StoragePath.builtin(group: def.storedAs?.group ?? def.group, plural: def.storedAs?.plural ?? def.plural)
            return def
        }

    public static let schemas: SchemaDefinitions = UpstreamSchemas.definitions
}
