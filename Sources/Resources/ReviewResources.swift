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

}
