import APIMachinery
import HTTPTypes

/// Who is asking. For now one static bearer token (the admin's, written to the kubeconfig);
/// certificates, basic auth and service-account tokens come with the auth issue.
struct Authenticator: Sendable {
    let tokens: Set<String>

    func authenticate(_ headers: HTTPFields) throws(StatusError) {
        guard let value = headers[.authorization], value.hasPrefix("Bearer ") else { throw .unauthorized() }
        let token = String(value.dropFirst("Bearer ".count)).trimmingCharacters(in: " ")
        guard tokens.contains(token) else { throw .unauthorized() }
    }
}
