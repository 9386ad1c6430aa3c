/// The admission chain every write passes, as one list in upstream's order (kube-apiserver's
/// default plugins). Mutating phases run first, in this order; then the object's validation;
/// then validating phases, in this order. Service IPs and node ports are allocated last among
/// the mutations, where upstream's service storage allocates them.
public enum AdmissionChain {
    /// `dynamic`: the webhook configurations and admission policies (with their bindings) the
    /// dynamic plugins apply, and how they reach a webhook; without it none is applied.
    public static func standard(serviceIPs: ServiceIPAllocator,
                                dynamic: (AdmissionConfigurations, any AdmissionWebhookTransport)? = nil) -> [any AdmissionPlugin] {
        let mutating: [any AdmissionPlugin] = dynamic.map {
            [MutatingAdmissionPolicy(configurations: $0.0), MutatingAdmissionWebhook(configurations: $0.0, transport: $0.1)]
        } ?? []
        let validating: [any AdmissionPlugin] = dynamic.map {
            [ValidatingAdmissionPolicy(configurations: $0.0), ValidatingAdmissionWebhook(configurations: $0.0, transport: $0.1)]
        } ?? []
        return [
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
            CertificateSignerPermissions(),
            CertificateSubjectRestriction(),
            DefaultClass.ingress,
        ] + mutating + [
            serviceIPs,
        ] + validating + [
            ResourceQuotaAdmission(),
        ]
    }
}
