import APIMachinery
import Resources

/// Upstream's CertificateApproval and CertificateSigning: approving or denying a
/// CertificateSigningRequest takes the `approve` verb on its signer, and writing its certificate
/// the `sign` verb (resource `signers` of certificates.k8s.io, named by the signerName or by its
/// domain and `/*`); the right to update the subresource alone is not enough.
public struct CertificateSignerPermissions: AdmissionPlugin {
    public init() {}

    public func validate(_ request: AdmissionRequest) async throws(StatusError) {
        guard request.operation == .update, request.def.group == "certificates.k8s.io", request.def.plural == "certificatesigningrequests",
              let user = request.user else { return }
        let verb: String
        switch request.subresource {
        case .approval?: verb = "approve"
        case .status? where request.object["status"]["certificate"] != request.old?["status"]["certificate"]: verb = "sign"
        default: return
        }
        let signer = request.object["spec"]["signerName"].string ?? ""
        let names = [signer] + (signer.split(separator: "/").first.map { ["\($0)/*"] } ?? [])
        for name in names {
            guard let allowed = await request.registry.access.allows(user, verb: verb, group: "certificates.k8s.io", resource: "signers", name: name)
            else { return }
            if allowed { return }
        }
        throw request.forbidden("user not permitted to \(verb) requests with signerName \"\(signer)\"")
    }
}
