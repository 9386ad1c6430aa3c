import APIMachinery
import Foundation
import Hummingbird
import Registry
import Resources

/// The answers to the review resources (ReviewResources): each POST is evaluated for the caller
/// and returned with its status filled in, never stored, as upstream's REST storage for them.
extension ResourceRequest {
    static let reviewKinds: Set<String> = Set(ReviewResources.resources.map { "\($0.plural).\($0.group)" })

    var isReview: Bool { Self.reviewKinds.contains("\(def.plural).\(def.group)") }

    func serveReview(_ request: inout Request) async throws(StatusError) -> Response {
        guard request.method == .post, path.name == nil else { throw .methodNotAllowed() }
        var review = try await readBody(&request)
        review["apiVersion"] = .string(def.apiVersion)
        review["kind"] = .string(def.kind)
        if review["metadata"].isNull { review["metadata"] = .emptyObject }
        review["metadata"]["creationTimestamp"] = .string(APITime.format(Date()))
        let spec = review["spec"]
        switch def.kind {
        case "TokenReview":
            guard let token = spec["token"].string, !token.isEmpty else {
                throw invalid(review, [.required("spec.token", "")])
            }
            let audiences = (spec["audiences"].array ?? []).compactMap(\.string)
            let asked = audiences.isEmpty ? [ServiceAccountTokens.issuer] : audiences
            if let user = await handler.authenticator.user(forToken: token, audiences: asked) {
                review["status"] = ["authenticated": true, "user": user.json, "audiences": .array(asked.map { .string($0) })]
            } else {
                review["status"] = ["authenticated": false, "error": "[invalid bearer token, token lookup failed]"]
            }
        case "SelfSubjectReview":
            review["status"] = ["userInfo": user.json]
        case "SelfSubjectRulesReview":
            guard let ns = spec["namespace"].string, !ns.isEmpty else {
                throw invalid(review, [.required("spec.namespace", "")])
            }
            review["status"] = await rulesReview(for: user, namespace: ns)
        default:
            let subject = try accessReviewSubject(review)
            let attributes = try accessReviewAttributes(review, user: subject)
            let decision = await handler.authorizer.authorize(attributes)
            var status: JSON = ["allowed": .bool(decision.allowed)]
            if !decision.reason.isEmpty { status["reason"] = .string(decision.reason) }
            review["status"] = status
        }
        return APIHandler.json(review, status: .created)
    }

    /// Whose access is asked about: the caller for self reviews, else spec.user/groups/uid/extra.
    func accessReviewSubject(_ review: JSON) throws(StatusError) -> UserInfo {
        guard def.kind == "SubjectAccessReview" || def.kind == "LocalSubjectAccessReview" else { return user }
        let spec = review["spec"]
        let groups = (spec["groups"].array ?? []).compactMap(\.string)
        let name = spec["user"].string ?? ""
        guard !name.isEmpty || !groups.isEmpty else {
            throw invalid(review, [.invalid("spec.user", .string(name), "at least one of user or group must be specified")])
        }
        var extra: [String: [String]] = [:]
        for (key, values) in spec["extra"].object ?? [:] { extra[key] = (values.array ?? []).compactMap(\.string) }
        return UserInfo(name: name, uid: spec["uid"].string ?? "", groups: groups, extra: extra)
    }

    func accessReviewAttributes(_ review: JSON, user subject: UserInfo) throws(StatusError) -> RequestAttributes {
        let spec = review["spec"]
        let resource = spec["resourceAttributes"], nonResource = spec["nonResourceAttributes"]
        switch (resource.isNull, nonResource.isNull) {
        case (false, true):
            var ns = resource["namespace"].string ?? ""
            if def.kind == "LocalSubjectAccessReview" {
                if ns.isEmpty { ns = namespace ?? "" }
                guard ns == namespace else {
                    throw invalid(review, [.invalid("spec.resourceAttributes.namespace", .string(ns), "must match metadata.namespace")])
                }
            }
            return RequestAttributes(user: subject, verb: resource["verb"].string ?? "", group: resource["group"].string ?? "",
                                     resource: resource["resource"].string ?? "", subresource: resource["subresource"].string ?? "",
                                     namespace: ns, name: resource["name"].string ?? "")
        case (true, false):
            var a = RequestAttributes(user: subject, method: .get, path: nonResource["path"].string ?? "")
            a.verb = nonResource["verb"].string ?? ""
            return a
        default:
            throw invalid(review, [.invalid("spec.resourceAttributes", .null, "exactly one of nonResourceAttributes or resourceAttributes must be specified")])
        }
    }

    func rulesReview(for user: UserInfo, namespace: String) async -> JSON {
        let rules = await handler.authorizer.rules(for: user, namespace: namespace)
        var resourceRules: [JSON] = [], nonResourceRules: [JSON] = []
        for rule in rules {
            if !rule.resources.isEmpty {
                var r = rule
                r.nonResourceURLs = []
                resourceRules.append(r.json)
            }
            if !rule.nonResourceURLs.isEmpty {
                nonResourceRules.append(["verbs": .array(rule.verbs.map { .string($0) }), "nonResourceURLs": .array(rule.nonResourceURLs.map { .string($0) })])
            }
        }
        return ["resourceRules": .array(resourceRules), "nonResourceRules": .array(nonResourceRules), "incomplete": false]
    }

    func invalid(_ review: JSON, _ errors: [FieldError]) -> StatusError {
        .invalid(kind: def.kind, group: def.group, name: review["metadata"]["name"].string ?? "", errors)
    }
}
