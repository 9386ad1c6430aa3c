import APIMachinery
import Resources

/// Upstream's CertificateSubjectRestriction: no CertificateSigningRequest for the API server's
/// client signer may ask for the group system:masters, whose members no RBAC rule can limit.
public struct CertificateSubjectRestriction: AdmissionPlugin {
    public static let clientSigner = "kubernetes.io/kube-apiserver-client"

    public init() {}

    public func validate(_ request: AdmissionRequest) async throws(StatusError) {
        guard request.operation == .create, request.isResource("certificatesigningrequests", group: "certificates.k8s.io"),
              request.object["spec"]["signerName"].string == Self.clientSigner else { return }
        let groups: [String]
        do { groups = CertificateRequest.organizations(try CertificateRequest.parse(CertificateRequest.bytes(request.object["spec"]["request"].string))) } catch {
            throw request.forbidden("unable to parse CSR: \(error)")
        }
        if groups.contains("system:masters") {
            throw request.forbidden("use of \(Self.clientSigner) signer with system:masters group is not allowed")
        }
    }
}
