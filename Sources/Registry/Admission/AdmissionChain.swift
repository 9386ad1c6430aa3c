/// The admission chain every write passes, as one list in upstream's order (kube-apiserver's
/// default plugins). Mutating phases run first, in this order; then the object's validation;
/// then validating phases, in this order. Service IPs and node ports are allocated last among
/// the mutations, where upstream's service storage allocates them.
public enum AdmissionChain {
    public static func standard(serviceIPs: ServiceIPAllocator) -> [any AdmissionPlugin] {
        [
            NamespaceLifecycle(),
            LimitRanger(),
            ServiceAccountAdmission(),
            PodSecurity(),
            PriorityAdmission(),
            DefaultTolerationSeconds(),
            DefaultClass.storage,
            StorageObjectInUseProtection(),
            PersistentVolumeClaimResize(),
            RuntimeClassAdmission(),
            CertificateSubjectRestriction(),
            DefaultClass.ingress,
            serviceIPs,
            ResourceQuotaAdmission(),
        ]
    }
}
