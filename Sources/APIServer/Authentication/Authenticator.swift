import APIMachinery
import Foundation
import HTTPTypes
import Registry
import X509

/// Authentication, as upstream's union of authenticators: a bearer token (static, else a
/// service-account JWT), basic auth, else a client certificate signed by the cluster CA (CN the
/// user, O the groups; the TLS layer has verified it). Credentials presented that fail are 401,
/// on every path; a request presenting none is system:anonymous, for authorization to decide.
struct Authenticator: Sendable {
    var tokens: StaticCredentials
    var passwords: StaticCredentials
    var serviceAccountTokens: ServiceAccountTokens?
    let registry: Registry

    func authenticate(_ headers: HTTPFields, clientCertificate: Certificate?) async throws(StatusError) -> UserInfo {
        if let value = headers[.authorization] {
            let (scheme, credential) = Self.split(value)
            switch scheme.lowercased() {
            case "bearer":
                if let user = await user(forToken: credential) { return user }
            case "basic":
                if let decoded = Data(base64Encoded: credential).map({ String(decoding: $0, as: UTF8.self) }),
                   let colon = decoded.firstIndex(of: ":"),
                   let user = passwords.user(for: String(decoded[decoded.index(after: colon)...])),
                   user.name == decoded[..<colon] {
                    return user.authenticated()
                }
            default: break
            }
            throw .unauthorized()
        }
        if let cert = clientCertificate {
            guard let user = Self.user(of: cert) else { throw .unauthorized() }
            return user.authenticated()
        }
        return .anonymous
    }

    /// A bearer token's user, for requests and for TokenReview (with the audiences it asks for).
    func user(forToken token: String, audiences: [String] = [ServiceAccountTokens.issuer]) async -> UserInfo? {
        if let user = tokens.user(for: token) { return user.authenticated() }
        guard let claims = serviceAccountTokens?.verify(token, audiences: audiences) else { return nil }
        return await serviceAccountUser(claims)?.authenticated()
    }

    /// The account behind verified claims, if it and the object the token is bound to still
    /// exist as they were when the token was issued (a recreated account's old tokens fail).
    func serviceAccountUser(_ claims: ServiceAccountTokens.Claims) async -> UserInfo? {
        guard let saDef = registry.catalog.lookup(group: "", version: "v1", plural: "serviceaccounts"),
              let sa = try? await registry.get(saDef, namespace: claims.namespace, name: claims.serviceAccountName),
              sa["metadata"]["uid"].string == claims.serviceAccountUID else { return nil }
        var user = UserInfo.serviceAccount(namespace: claims.namespace, name: claims.serviceAccountName, uid: claims.serviceAccountUID)
        if !claims.id.isEmpty { user.extra["authentication.kubernetes.io/credential-id"] = ["JTI=\(claims.id)"] }
        if let bound = claims.bound {
            let plural = bound.kind == "Pod" ? "pods" : "secrets"
            guard let def = registry.catalog.lookup(group: "", version: "v1", plural: plural),
                  let object = try? await registry.get(def, namespace: claims.namespace, name: bound.name),
                  object["metadata"]["uid"].string == bound.uid, object["metadata"]["deletionTimestamp"].isNull else { return nil }
            if bound.kind == "Pod" {
                user.extra["authentication.kubernetes.io/pod-name"] = [bound.name]
                user.extra["authentication.kubernetes.io/pod-uid"] = [bound.uid]
            }
        }
        return user
    }

    static func user(of cert: Certificate) -> UserInfo? {
        var name = "", groups: [String] = []
        for rdn in cert.subject {
            for attribute in rdn {
                if attribute.type == .RDNAttributeType.commonName { name = attribute.value.description }
                if attribute.type == .RDNAttributeType.organizationName { groups.append(attribute.value.description) }
            }
        }
        return name.isEmpty ? nil : UserInfo(name: name, groups: groups)
    }

    static func split(_ header: String) -> (scheme: Substring, credential: String) {
        guard let space = header.firstIndex(of: " ") else { return (Substring(header), "") }
        return (header[..<space], header[space...].trimmingCharacters(in: .whitespaces))
    }
}
