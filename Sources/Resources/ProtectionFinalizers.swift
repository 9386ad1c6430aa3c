/// The finalizers that keep a claim or a volume while it is in use: added by the
/// StorageObjectInUseProtection admission, lifted by the PVC and PV protection controllers.
public enum ProtectionFinalizers {
    public static let claim = "kubernetes.io/pvc-protection"
    public static let volume = "kubernetes.io/pv-protection"
}
