import APIMachinery
import Resources

/// Upstream's StorageObjectInUseProtection admission: every new claim gets the
/// `kubernetes.io/pvc-protection` finalizer and every new volume `kubernetes.io/pv-protection`,
/// so neither disappears while in use; the PVC and PV protection controllers lift them.
public struct StorageObjectInUseProtection: AdmissionPlugin {

    public init() {}

    public func admit(_ request: inout AdmissionRequest) async throws(StatusError) {
        guard request.operation == .create else { return }
        let finalizer: String
        if request.isResource("persistentvolumeclaims") { finalizer = ProtectionFinalizers.claim }
        else if request.isResource("persistentvolumes") { finalizer = ProtectionFinalizers.volume }
        else { return }
        var finalizers = request.object["metadata"]["finalizers"].array ?? []
        if !finalizers.contains(.string(finalizer)) { finalizers.append(.string(finalizer)) }
        request.object["metadata"]["finalizers"] = .array(finalizers)
    }
}

/// Upstream's PersistentVolumeClaimResize admission: a bound claim may ask for more storage only
/// when its StorageClass allows volume expansion.
public struct PersistentVolumeClaimResize: AdmissionPlugin {
    public init() {}

    public func validate(_ request: AdmissionRequest) async throws(StatusError) {
        guard request.operation == .update, request.isResource("persistentvolumeclaims"), let old = request.old else { return }
        let before = Quantity.value(old["spec"]["resources"]["requests"]["storage"])
        let after = Quantity.value(request.object["spec"]["resources"]["requests"]["storage"])
        guard after > before, old["status"]["phase"].string == "Bound" else { return }
        var allowed = false
        if let className = request.object["spec"]["storageClassName"].string, !className.isEmpty,
           let sc = try? await request.get("storageclasses", group: "storage.k8s.io", name: className) {
            allowed = sc["allowVolumeExpansion"].bool == true
        }
        if !allowed {
            throw request.forbidden("only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize")
        }
    }
}
