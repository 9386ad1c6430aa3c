import APIMachinery
import HTTPTypes
import X509

/// Who is asking, as the authenticators upstream chains decide it.
public struct UserInfo: Sendable, Equatable {
    public var name: String
    public var groups: [String]
}

/// Authentication: a static bearer token (the admin's), else a client certificate signed by the
/// cluster CA (CN the user, O the groups; the TLS layer has already verified it). Basic auth,
/// service-account tokens and impersonation come with the rest of the auth issue.
struct Authenticator: Sendable {
    let tokens: Set<String>

    func authenticate(_ headers: HTTPFields, clientCertificate: Certificate?) throws(StatusError) -> UserInfo {
        if let value = headers[.authorization] {
            guard value.hasPrefix("Bearer ") else { throw .unauthorized() }
            let token = String(value.dropFirst("Bearer ".count)).trimmingCharacters(in: " ")
            guard tokens.contains(token) else { throw .unauthorized() }
            return UserInfo(name: "kubernetes-admin", groups: ["system:masters", "system:authenticated"])
        }
        if let cert = clientCertificate {
            var name = "", groups: [String] = []
            for rdn in cert.subject {
                for attribute in rdn {
                    if attribute.type == .RDNAttributeType.commonName { name = attribute.value.description }
                    if attribute.type == .RDNAttributeType.organizationName { groups.append(attribute.value.description) }
                }
            }
            if !name.isEmpty { return UserInfo(name: name, groups: groups + ["system:authenticated"]) }
        }
        throw .unauthorized()
    }
}
