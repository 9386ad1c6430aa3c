import APIMachinery

/// An rbac.authorization.k8s.io/v1 PolicyRule, matched as upstream's RBAC authorizer matches it.
struct PolicyRule: Sendable, Equatable {
    var verbs: [String]
    var apiGroups: [String] = []
    var resources: [String] = []
    var resourceNames: [String] = []
    var nonResourceURLs: [String] = []

    init(verbs: [String], apiGroups: [String] = [], resources: [String] = [], resourceNames: [String] = [], nonResourceURLs: [String] = []) {
        self.verbs = verbs
        self.apiGroups = apiGroups
        self.resources = resources
        self.resourceNames = resourceNames
        self.nonResourceURLs = nonResourceURLs
    }

    init(_ json: JSON) {
        func strings(_ key: String) -> [String] { (json[key].array ?? []).compactMap(\.string) }
        self.init(verbs: strings("verbs"), apiGroups: strings("apiGroups"), resources: strings("resources"),
                  resourceNames: strings("resourceNames"), nonResourceURLs: strings("nonResourceURLs"))
    }

    var json: JSON {
        var o: JSON = ["verbs": .array(verbs.map { .string($0) })]
        for (key, values) in [("apiGroups", apiGroups), ("resources", resources), ("resourceNames", resourceNames),
                              ("nonResourceURLs", nonResourceURLs)] where !values.isEmpty || (key == "apiGroups" && !resources.isEmpty) {
            o[key] = .array(values.map { .string($0) })
        }
        return o
    }

    func allows(_ a: RequestAttributes) -> Bool {
        guard verbs.contains("*") || verbs.contains(a.verb) else { return false }
        if !a.isResourceRequest {
            return nonResourceURLs.contains { $0 == "*" || $0 == a.path || ($0.hasSuffix("*") && a.path.hasPrefix($0.dropLast())) }
        }
        guard apiGroups.contains("*") || apiGroups.contains(a.apiGroup) else { return false }
        let combined = a.subresource.isEmpty ? a.resource : "\(a.resource)/\(a.subresource)"
        guard resources.contains(where: { $0 == "*" || $0 == combined || (!a.subresource.isEmpty && $0 == "*/\(a.subresource)") }) else {
            return false
        }
        return resourceNames.isEmpty || resourceNames.contains(a.name)
    }
}
