import APIMachinery

/// storage.k8s.io/v1: StorageClass (the default class marked in its Name column, as kubectl shows it).
public enum StorageV1 {
    public static let resources: [ResourceDefinition] = [
        .v1("storage.k8s.io", "StorageClass", "storageclasses", ["sc"], namespaced: false, columns: [
            PrinterColumn("Name", format: "name") { o in
                let name = o["metadata"]["name"].string ?? ""
                return .string(o["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"] == "true" ? "\(name) (default)" : name)
            },
            .field("Provisioner", ["provisioner"]), .field("ReclaimPolicy", ["reclaimPolicy"]), .field("VolumeBindingMode", ["volumeBindingMode"]),
            PrinterColumn("AllowVolumeExpansion") { o in .string(o["allowVolumeExpansion"].bool == true ? "true" : "false") }, .age],
            strategy: .init(defaults: { o in if o["reclaimPolicy"].isNull { o["reclaimPolicy"] = "Delete" }; if o["volumeBindingMode"].isNull { o["volumeBindingMode"] = "Immediate" } })).returningDeletedObject(),
    ]
}
