import APIMachinery
import HTTPTypes
import Hummingbird

/// Service-account issuer discovery, as upstream serves it: the OpenID provider configuration and
/// the key set that verifies service-account tokens, so another system (a cloud's workload
/// identity, a vault) can trust tokens this cluster issues. Readable by whom RBAC lets
/// (system:service-account-issuer-discovery, bound to every service account by default).
struct ServiceAccountIssuerDiscovery: Sendable {
    static let configurationPath = "/.well-known/openid-configuration"
    static let keysPath = "/openid/v1/jwks"

    let tokens: ServiceAccountTokens
    /// Where the key set is served, as clients reach this server.
    let jwksURI: String

    func respond(to path: String) -> Response? {
        switch path {
        case Self.configurationPath, Self.configurationPath + "/":
            return Self.cached(APIHandler.json([
                "issuer": .string(ServiceAccountTokens.issuer), "jwks_uri": .string(jwksURI),
                "response_types_supported": ["id_token"], "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["ES256"],
            ]))
        case Self.keysPath, Self.keysPath + "/":
            var response = APIHandler.json(tokens.keySet)
            response.headers[.contentType] = "application/jwk-set+json"
            return Self.cached(response)
        default:
            return nil
        }
    }

    /// Upstream lets caches keep both for an hour.
    static func cached(_ response: Response) -> Response {
        var response = response
        response.headers[.cacheControl] = "public, max-age=3600"
        return response
    }
}
