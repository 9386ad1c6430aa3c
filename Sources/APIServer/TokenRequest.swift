import APIMachinery
import Foundation
import Hummingbird
import Registry

/// POST serviceaccounts/NAME/token (`kubectl create token`): a TokenRequest answered with a
/// signed token for the account, optionally bound to a pod or secret of its namespace so it
/// stops working when that object goes, as upstream's TokenRequest REST does.
extension ResourceRequest {
    /// Upstream's bounds: at least ten minutes; an hour when not asked.
    static let minimumTokenSeconds: Int64 = 600
    static let defaultTokenSeconds: Int64 = 3600

    func serveTokenRequest(_ request: inout Request, serviceAccount name: String) async throws(StatusError) -> Response {
        guard let tokens = handler.authenticator.serviceAccountTokens else { throw .notFoundPath() }
        let ns = namespace ?? ""
        var review = try await readBody(&request)
        let sa = try await registry.get(def, namespace: ns, name: name)
        var spec = review["spec"]
        var errors: [FieldError] = []
        let seconds = spec["expirationSeconds"].int ?? Self.defaultTokenSeconds
        if seconds < Self.minimumTokenSeconds {
            errors.append(.invalid("spec.expirationSeconds", .int(seconds), "may not specify a duration less than 10 minutes"))
        } else if seconds > 1 << 32 {
            errors.append(.invalid("spec.expirationSeconds", .int(seconds), "may not specify a duration larger than 2^32 seconds"))
        }
        var audiences = (spec["audiences"].array ?? []).compactMap(\.string)
        if audiences.isEmpty { audiences = [ServiceAccountTokens.issuer] }
        var bound: ServiceAccountTokens.BoundObject?
        let ref = spec["boundObjectRef"]
        if !ref.isNull {
            let kind = ref["kind"].string ?? ""
            if kind != "Pod" && kind != "Secret" {
                errors.append(.notSupported("spec.boundObjectRef.kind", .string(kind), ["Pod", "Secret"]))
            } else {
                bound = try await boundObject(kind: kind, name: ref["name"].string ?? "", uid: ref["uid"].string ?? "", namespace: ns)
            }
        }
        guard errors.isEmpty else { throw .invalid(kind: "TokenRequest", group: "authentication.k8s.io", name: name, errors) }

        let now = Date()
        let expiration = now.addingTimeInterval(Double(seconds))
        let token = tokens.issue(.init(namespace: ns, serviceAccountName: name, serviceAccountUID: sa["metadata"]["uid"].string ?? "",
                                       audiences: audiences, expiration: expiration, bound: bound), now: now)
        spec["audiences"] = .array(audiences.map { .string($0) })
        spec["expirationSeconds"] = .int(seconds)
        if let bound { spec["boundObjectRef"]["uid"] = .string(bound.uid) }
        review["apiVersion"] = "authentication.k8s.io/v1"
        review["kind"] = "TokenRequest"
        review["metadata"] = ["name": .string(name), "namespace": .string(ns), "creationTimestamp": .string(APITime.format(now))]
        review["spec"] = spec
        review["status"] = ["token": .string(token), "expirationTimestamp": .string(APITime.format(expiration))]
        return APIHandler.json(review, status: .created)
    }

    /// The pod or secret a token is bound to, which must exist (and be the one the client names).
    func boundObject(kind: String, name: String, uid: String, namespace: String) async throws(StatusError) -> ServiceAccountTokens.BoundObject {
        guard let def = registry.catalog.lookup(group: "", version: "v1", plural: kind == "Pod" ? "pods" : "secrets") else { throw .notFoundPath() }
        let object = try await registry.get(def, namespace: namespace, name: name)
        let actual = object["metadata"]["uid"].string ?? ""
        if !uid.isEmpty && uid != actual {
            throw .conflict(def.groupResource, name, "the UID in the bound object reference (\(uid)) does not match the UID in record. The object might have been deleted and then recreated")
        }
        return .init(kind: kind, name: name, uid: actual)
    }
}
