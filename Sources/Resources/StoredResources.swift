import APIMachinery

/// GA resources of 1.37 that Cubby serves and stores with upstream's names, scope, short names,
/// status subresource and printer columns, before the behaviour behind them is built (dynamic
/// resource allocation, API priority and fairness). A create answers a warning naming what does
/// not happen yet. One declaration a resource; the API groups' own files list them.
public struct StoredResource: Sendable {
    let group: String, version: String, kind: String, plural: String
    var shortNames: [String] = []
    var categories: [String] = []
    var namespaced = false
    var hasStatus = false
    var columns: [PrinterColumn] = []
    /// What is not acted on yet, completing "stored only: ...".
    var notYet: String

    var schemaName: String {
        let package = group.isEmpty ? "core" : String(group.split(separator: ".").first!)
        return "io.k8s.api.\(package).\(version).\(kind)"
    }

    public var definition: ResourceDefinition {
        var def = ResourceDefinition(group: group, version: version, kind: kind, plural: plural, shortNames: shortNames,
                                     categories: categories, namespaced: namespaced, hasStatus: hasStatus,
                                     columns: columns.contains { $0.name == "Age" } ? columns : columns + [.age], schemaName: schemaName)
        def.storedOnlyWarning = "\(kind) is stored only: \(notYet)"
        return def
    }

}

public enum StoredResources {

    static func count(_ name: String, _ path: [String]) -> PrinterColumn {
        PrinterColumn(name, type: "integer") { .int(Int64($0[path: path].array?.count ?? 0)) }
    }

    static func joined(_ name: String, _ path: [String], _ item: String) -> PrinterColumn {
        PrinterColumn(name) { o in
            let values = (o[path: path].array ?? []).compactMap { $0[item].string ?? $0.string }
            return .string(values.isEmpty ? "<none>" : values.joined(separator: ","))
        }
    }

    public static let all: [StoredResource] = [
        // certificates.k8s.io/v1 (CertificateSigningRequest: CertificatesV1)
        .init(group: "certificates.k8s.io", version: "v1", kind: "ClusterTrustBundle", plural: "clustertrustbundles",
              columns: [.field("SignerName", ["spec", "signerName"])], notYet: "no kubelet of this cluster projects ClusterTrustBundles yet"),
        .init(group: "certificates.k8s.io", version: "v1", kind: "PodCertificateRequest", plural: "podcertificaterequests", namespaced: true,
              hasStatus: true, columns: [.field("SignerName", ["spec", "signerName"]), .field("Pod", ["spec", "podName"])],
              notYet: "this cluster does not issue pod certificates yet"),
        // flowcontrol.apiserver.k8s.io/v1
        .init(group: "flowcontrol.apiserver.k8s.io", version: "v1", kind: "FlowSchema", plural: "flowschemas", hasStatus: true,
              columns: [.field("PriorityLevel", ["spec", "priorityLevelConfiguration", "name"]),
                        PrinterColumn("MatchingPrecedence", type: "integer") { .int($0["spec"]["matchingPrecedence"].int ?? 1000) },
                        .field("DistinguisherMethod", ["spec", "distinguisherMethod", "type"])],
              notYet: "this cluster does not apply API priority and fairness yet"),
        .init(group: "flowcontrol.apiserver.k8s.io", version: "v1", kind: "PriorityLevelConfiguration", plural: "prioritylevelconfigurations",
              hasStatus: true, columns: [.field("Type", ["spec", "type"])], notYet: "this cluster does not apply API priority and fairness yet"),
        // networking.k8s.io/v1
        .init(group: "networking.k8s.io", version: "v1", kind: "IPAddress", plural: "ipaddresses", shortNames: ["ip"],
              columns: [PrinterColumn("ParentRef") { o in
                  let ref = o["spec"]["parentRef"]
                  return .string(ref.isNull ? "<none>" : "\(ref["resource"].string ?? "")/\(ref["namespace"].string ?? "")/\(ref["name"].string ?? "")")
              }], notYet: "this cluster allocates service addresses without IPAddress objects"),
        .init(group: "networking.k8s.io", version: "v1", kind: "ServiceCIDR", plural: "servicecidrs", hasStatus: true,
              columns: [PrinterColumn("CIDRs") { o in .string((o["spec"]["cidrs"].array ?? []).compactMap(\.string).joined(separator: ",")) }],
              notYet: "this cluster's service range is set when it starts"),
        // resource.k8s.io/v1 (dynamic resource allocation)
        .init(group: "resource.k8s.io", version: "v1", kind: "DeviceClass", plural: "deviceclasses",
              notYet: "this cluster does not allocate devices yet"),
        .init(group: "resource.k8s.io", version: "v1", kind: "DeviceTaintRule", plural: "devicetaintrules", hasStatus: true,
              notYet: "this cluster does not allocate devices yet"),
        .init(group: "resource.k8s.io", version: "v1", kind: "ResourceClaim", plural: "resourceclaims", namespaced: true, hasStatus: true,
              columns: [PrinterColumn("State") { o in .string(o["status"]["allocation"].isNull ? "pending" : "allocated") }],
              notYet: "this cluster does not allocate devices yet"),
        .init(group: "resource.k8s.io", version: "v1", kind: "ResourceClaimTemplate", plural: "resourceclaimtemplates", namespaced: true,
              notYet: "this cluster does not allocate devices yet"),
        .init(group: "resource.k8s.io", version: "v1", kind: "ResourceSlice", plural: "resourceslices",
              columns: [.field("Node", ["spec", "nodeName"]), .field("Driver", ["spec", "driver"]), .field("Pool", ["spec", "pool", "name"])],
              notYet: "this cluster does not allocate devices yet"),
        // storage.k8s.io/v1
        .init(group: "storage.k8s.io", version: "v1", kind: "CSIDriver", plural: "csidrivers",
              columns: [PrinterColumn("AttachRequired") { .string($0["spec"]["attachRequired"].bool == false ? "false" : "true") },
                        PrinterColumn("PodInfoOnMount") { .string($0["spec"]["podInfoOnMount"].bool == true ? "true" : "false") },
                        joined("Modes", ["spec", "volumeLifecycleModes"], "")],
              notYet: "this cluster runs no CSI drivers yet"),
        .init(group: "storage.k8s.io", version: "v1", kind: "CSINode", plural: "csinodes",
              columns: [count("Drivers", ["spec", "drivers"])], notYet: "this cluster runs no CSI drivers yet"),
        .init(group: "storage.k8s.io", version: "v1", kind: "CSIStorageCapacity", plural: "csistoragecapacities", namespaced: true,
              columns: [.field("StorageClassName", ["storageClassName"]), .field("Capacity", ["capacity"])],
              notYet: "this cluster runs no CSI drivers yet"),
        .init(group: "storage.k8s.io", version: "v1", kind: "VolumeAttachment", plural: "volumeattachments", hasStatus: true,
              columns: [.field("Attacher", ["spec", "attacher"]), .field("PV", ["spec", "source", "persistentVolumeName"], none: ""),
                        .field("Node", ["spec", "nodeName"]),
                        PrinterColumn("Attached") { .string($0["status"]["attached"].bool == true ? "true" : "false") }],
              notYet: "this cluster runs no CSI drivers yet"),
        .init(group: "storage.k8s.io", version: "v1", kind: "VolumeAttributesClass", plural: "volumeattributesclasses", shortNames: ["vac"],
              columns: [.field("DriverName", ["driverName"])], notYet: "this cluster runs no CSI drivers yet"),
        // storagemigration.k8s.io/v1
        .init(group: "storagemigration.k8s.io", version: "v1", kind: "StorageVersionMigration", plural: "storageversionmigrations", hasStatus: true,
              notYet: "this cluster does not migrate stored versions yet"),
    ]

    /// kubectl's TARGETS of an autoscaler: each resource metric as current/target ("cpu: 40%/80%"),
    /// <unknown> before the first measurement.
    public static var resources: [ResourceDefinition] { all.map(\.definition) }

}
