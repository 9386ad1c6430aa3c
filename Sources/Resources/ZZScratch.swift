import APIMachinery
// TEMPORARY: a minimal set to exercise the transport until the real declarations land.
public enum ScratchResources {
    public static let all: [ResourceDefinition] = [
        ResourceDefinition(group: "", version: "v1", kind: "Namespace", plural: "namespaces", shortNames: ["ns"], namespaced: false, hasStatus: true, nameRule: .dns1123Label,
            strategy: .init(prepareForCreate: { o in o["status"] = ["phase": "Active"]; if o["spec"]["finalizers"].isNull { o["spec"]["finalizers"] = ["kubernetes"] } }),
            columns: [.field("Status", ["status", "phase"]), .age], schemaName: "io.k8s.api.core.v1.Namespace"),
        ResourceDefinition(group: "", version: "v1", kind: "ConfigMap", plural: "configmaps", shortNames: ["cm"],
            columns: [PrinterColumn("Data", type: "integer") { .int(Int64($0["data"].object?.count ?? 0)) }, .age], schemaName: "io.k8s.api.core.v1.ConfigMap"),
        ResourceDefinition(group: "apps", version: "v1", kind: "Deployment", plural: "deployments", shortNames: ["deploy"], categories: ["all"], hasStatus: true,
            scale: ScaleSubresource(labelSelectorPath: ["spec", "selector"]), tracksGeneration: true, schemaName: "io.k8s.api.apps.v1.Deployment"),
    ]
}
