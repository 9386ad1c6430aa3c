import APIMachinery
import Crypto
import Foundation

/// Service-account tokens: JWTs (ES256) signed with the cluster's service-account key, carrying
/// upstream's claims (`sub` system:serviceaccount:NS:NAME, and under `kubernetes.io` the namespace,
/// the account and the pod or secret the token is bound to). Signing and checking only; whether
/// the account and bound object still exist is the authenticator's question.
public struct ServiceAccountTokens: Sendable {
    /// The issuer and default audience, as upstream's default --service-account-issuer.
    public static let issuer = "https://kubernetes.default.svc.cluster.local"

    /// The key's raw bytes: this Crypto's key types are not Sendable, so one is made per use.
    let rawKey: Data
    let keyID: String

    public init(privateKeyPEM: String) throws {
        let key = try P256.Signing.PrivateKey(pemRepresentation: privateKeyPEM)
        rawKey = key.rawRepresentation
        keyID = Self.base64URL(Data(SHA256.hash(data: key.publicKey.derRepresentation)))
    }

    var key: P256.Signing.PrivateKey { try! P256.Signing.PrivateKey(rawRepresentation: rawKey) }

    /// A reference the token is bound to (a Pod or a Secret).
    public struct BoundObject: Sendable, Equatable {
        public var kind: String
        public var name: String
        public var uid: String

        public init(kind: String, name: String, uid: String) {
            self.kind = kind
            self.name = name
            self.uid = uid
        }
    }

    /// The claims a verified token carries.
    public struct Claims: Sendable {
        public var namespace: String
        public var serviceAccountName: String
        public var serviceAccountUID: String
        public var audiences: [String]
        public var expiration: Date
        public var id: String
        public var bound: BoundObject?

        /// `id` (the jti claim) is fresh for every token minted.
        public init(namespace: String, serviceAccountName: String, serviceAccountUID: String, audiences: [String], expiration: Date,
                    id: String = UUID().uuidString.lowercased(), bound: BoundObject?) {
            self.namespace = namespace
            self.serviceAccountName = serviceAccountName
            self.serviceAccountUID = serviceAccountUID
            self.audiences = audiences
            self.expiration = expiration
            self.id = id
            self.bound = bound
        }
    }

    public func issue(_ claims: Claims, now: Date = Date()) -> String {
        var k8s: JSON = ["namespace": .string(claims.namespace),
                         "serviceaccount": ["name": .string(claims.serviceAccountName), "uid": .string(claims.serviceAccountUID)]]
        if let bound = claims.bound {
            k8s[bound.kind.lowercased()] = ["name": .string(bound.name), "uid": .string(bound.uid)]
        }
        let payload: JSON = [
            "aud": .array(claims.audiences.map { .string($0) }), "exp": .int(Int64(claims.expiration.timeIntervalSince1970)),
            "iat": .int(Int64(now.timeIntervalSince1970)), "nbf": .int(Int64(now.timeIntervalSince1970)),
            "iss": .string(Self.issuer), "jti": .string(claims.id), "kubernetes.io": k8s,
            "sub": .string("system:serviceaccount:\(claims.namespace):\(claims.serviceAccountName)"),
        ]
        let header: JSON = ["alg": "ES256", "kid": .string(keyID)]
        let signingInput = Self.base64URL(header.data()) + "." + Self.base64URL(payload.data())
        // ES256 in JWS is the raw r || s pair, not DER.
        let signature = (try? key.signature(for: Data(signingInput.utf8)).rawRepresentation) ?? Data()
        return signingInput + "." + Self.base64URL(signature)
    }

    /// The token's claims when our key signed it, it is in its validity window and one of its
    /// audiences is accepted; nil otherwise (another issuer's token, a tampered one, an old one).
    public func verify(_ token: String, audiences: [String] = [issuer], now: Date = Date()) -> Claims? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let header = Self.decode(parts[0]), let body = Self.decode(parts[1]),
              let signature = Self.decode(parts[2]),
              let headerJSON = try? JSON.parse(header), headerJSON["alg"].string == "ES256",
              let sig = try? P256.Signing.ECDSASignature(rawRepresentation: signature),
              key.publicKey.isValidSignature(sig, for: Data("\(parts[0]).\(parts[1])".utf8)),
              let claims = try? JSON.parse(body), claims["iss"].string == Self.issuer else { return nil }
        let t = now.timeIntervalSince1970
        guard let exp = claims["exp"].int, Double(exp) > t, Double(claims["nbf"].int ?? 0) <= t + 60 else { return nil }
        let aud = (claims["aud"].array ?? []).compactMap(\.string)
        guard aud.contains(where: audiences.contains) else { return nil }
        let k8s = claims["kubernetes.io"]
        guard let ns = k8s["namespace"].string, let name = k8s["serviceaccount"]["name"].string,
              claims["sub"].string == "system:serviceaccount:\(ns):\(name)" else { return nil }
        var bound: BoundObject?
        for kind in ["Pod", "Secret"] {
            let ref = k8s[kind.lowercased()]
            if let n = ref["name"].string { bound = BoundObject(kind: kind, name: n, uid: ref["uid"].string ?? "") }
        }
        return Claims(namespace: ns, serviceAccountName: name, serviceAccountUID: k8s["serviceaccount"]["uid"].string ?? "",
                      audiences: aud, expiration: Date(timeIntervalSince1970: Double(exp)), id: claims["jti"].string ?? "", bound: bound)
    }

    /// The verifying key as a JSON Web Key Set (RFC 7517), as issuer discovery publishes it.
    public var keySet: JSON {
        let point = key.publicKey.x963Representation  // 0x04, then x and y
        return ["keys": [["use": "sig", "kty": "EC", "kid": .string(keyID), "crv": "P-256", "alg": "ES256",
                          "x": .string(Self.base64URL(point[1...32])), "y": .string(Self.base64URL(point[33...64]))]]]
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ part: Substring) -> Data? {
        var s = part.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while s.count % 4 != 0 { s += "=" }
        return Data(base64Encoded: s)
    }
}
