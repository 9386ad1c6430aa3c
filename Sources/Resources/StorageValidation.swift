import APIMachinery

/// Upstream's validation of claim updates: a claim's spec is fixed once made, but for a bound
/// claim's storage request (which may only grow) and its volume attributes class.
public enum StorageValidation {
    public static func claimUpdate(_ new: JSON, _ old: JSON) -> [FieldError] {
        var errors: [FieldError] = []
        var a = new["spec"], b = old["spec"]
        // What the server or the binder fills in later is not the user's change.
        if (b["volumeName"].string ?? "").isEmpty { b["volumeName"] = a["volumeName"] }
        if b["storageClassName"].isNull { b["storageClassName"] = a["storageClassName"] }
        if old["status"]["phase"] == "Bound" {
            let before = Quantity.value(b["resources"]["requests"]["storage"]), after = Quantity.value(a["resources"]["requests"]["storage"])
            if after < before { errors.append(.forbidden("spec.resources.requests.storage", "field can not be less than previous value")) }
            a["resources"]["requests"]["storage"] = b["resources"]["requests"]["storage"]
            a["volumeAttributesClassName"] = b["volumeAttributesClassName"]
        }
        if a != b {
            errors.append(.forbidden("spec", "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n"
                                     + SpecDiff.render(b, a, type: "core.PersistentVolumeClaimSpec")))
        }
        return errors
    }
}
