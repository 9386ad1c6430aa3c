import APIMachinery

/// authentication.k8s.io/v1 and authorization.k8s.io/v1: resources that are never stored. A
/// client creates one to ask a question (is this token valid, who am I, may this user do that)
/// and the answer comes back in its status; the API server answers them (APIServer/Reviews).
public enum ReviewResources {
    /// Create is all they serve, as upstream.
    static func review(_ group: String, _ kind: String, _ plural: String, namespaced: Bool = false) -> ResourceDefinition {
        ResourceDefinition(group: group, version: "v1", kind: kind, plural: plural, namespaced: namespaced, verbs: ["create"],
                           schemaName: schemaName(group, kind))
    }

    static func schemaName(_ group: String, _ kind: String) -> String {
        "io.k8s.api.\(group.prefix { $0 != "." }).v1.\(kind)"
    }

    public static let resources: [ResourceDefinition] = [
        review("authentication.k8s.io", "TokenReview", "tokenreviews"),
        review("authentication.k8s.io", "SelfSubjectReview", "selfsubjectreviews"),
        review("authorization.k8s.io", "SubjectAccessReview", "subjectaccessreviews"),
        review("authorization.k8s.io", "SelfSubjectAccessReview", "selfsubjectaccessreviews"),
        review("authorization.k8s.io", "SelfSubjectRulesReview", "selfsubjectrulesreviews"),
        review("authorization.k8s.io", "LocalSubjectAccessReview", "localsubjectaccessreviews", namespaced: true),
    ]

    /// Their schemas, and TokenRequest's (the serviceaccounts/token subresource), as kinds kubectl
    /// can find; fields are free-form, the server reads what it needs.
    public static let schemas: [String: JSON] = {
        var s: [String: JSON] = [:]
        for d in resources {
            s[schemaName(d.group, d.kind)] = Schema.kind(d.group, "v1", d.kind, "\(d.kind) asks the API server a question; the answer is in its status.", [
                "apiVersion": Schema.apiVersion, "kind": Schema.kindField, "metadata": Schema.objectMeta,
                "spec": ["type": "object", "description": "The question.", "x-kubernetes-preserve-unknown-fields": true],
                "status": ["type": "object", "description": "The answer, filled in by the server.", "x-kubernetes-preserve-unknown-fields": true],
            ])
        }
        s[schemaName("authentication.k8s.io", "TokenRequest")] = Schema.kind(
            "authentication.k8s.io", "v1", "TokenRequest", "TokenRequest requests a token for a given service account.", [
                "apiVersion": Schema.apiVersion, "kind": Schema.kindField, "metadata": Schema.objectMeta,
                "spec": ["type": "object", "description": "Spec holds information about the request being evaluated", "x-kubernetes-preserve-unknown-fields": true],
                "status": ["type": "object", "description": "Status is filled in by the server and indicates whether the token can be authenticated.", "x-kubernetes-preserve-unknown-fields": true],
            ])
        return s
    }()
}
