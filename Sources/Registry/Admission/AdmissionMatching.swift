import APIMachinery
import Resources

/// Which writes a webhook or an admission policy applies to, as upstream decides it for both:
/// rules of operations, groups, versions, resources (with subresources) and scope; a
/// namespaceSelector on the namespace's labels; an objectSelector on the object's (or old object's).
enum AdmissionMatching {
    /// The request as a webhook or policy with these rules sees it: as made when a rule names
    /// its version; else, unless matchPolicy is Exact, converted to the first equivalent resource
    /// (another version of the same objects) a rule names; nil when none does.
    static func matchingRequest(_ rules: [JSON], matchPolicy: String?, _ request: AdmissionRequest) -> AdmissionRequest? {
        if rules.contains(where: { ruleMatches($0, request) }) { return request }
        // Equivalent resources share the plural (HPAs in autoscaling/v1 and v2, events in two
        // groups, a CRD's versions): no rule naming it, or all resources, leaves nothing to convert.
        let plural = request.def.plural
        guard matchPolicy != "Exact", rules.contains(where: { rule in
            (rule["resources"].array ?? []).contains { $0.string?.hasPrefix("*") == true || $0.string?.split(separator: "/").first.map(String.init) == plural }
        }) else { return nil }
        let storage = request.def.storageResource
        for other in request.registry.catalog.all where other.storageResource == storage && other.groupVersion != request.def.groupVersion {
            let converted = request.converted(to: other)
            if rules.contains(where: { ruleMatches($0, converted) }) { return converted }
        }
        return nil
    }

    static func ruleMatches(_ rule: JSON, _ request: AdmissionRequest) -> Bool {
        func has(_ field: String, _ value: String) -> Bool {
            (rule[field].array ?? []).contains { $0.string == "*" || $0.string == value }
        }
        guard has("operations", request.operation.rawValue), has("apiGroups", request.def.group),
              has("apiVersions", request.def.version) else { return false }
        let resource = request.def.plural, sub = request.subresource?.rawValue ?? ""
        let resourceMatches = (rule["resources"].array ?? []).compactMap(\.string).contains { entry in
            if entry == "*/*" { return true }
            let parts = entry.split(separator: "/", maxSplits: 1).map(String.init)
            if parts.count == 1 { return sub.isEmpty && (entry == "*" || entry == resource) }
            return !sub.isEmpty && (parts[0] == "*" || parts[0] == resource) && (parts[1] == "*" || parts[1] == sub)
        }
        guard resourceMatches else { return false }
        // A policy's resourceNames narrow the rule to named objects.
        if let names = rule["resourceNames"].array, !names.isEmpty,
           !names.contains(where: { $0.string == (request.object["metadata"]["name"].string ?? request.old?["metadata"]["name"].string) }) {
            return false
        }
        switch rule["scope"].string ?? "*" {
        case "Cluster": return !request.def.namespaced
        case "Namespaced": return request.def.namespaced
        default: return true
        }
    }

    /// The object's labels, or the old object's (a delete, a label removed), satisfy the selector.
    static func objectSelectorMatches(_ selector: JSON, _ request: AdmissionRequest) -> Bool {
        if selector.isNull || selector == .emptyObject { return true }
        guard let parsed = try? LabelSelector.fromStructured(selector) else { return false }
        let objects = request.operation == .delete ? [request.old] : [request.object, request.old]
        return objects.contains { $0.map { parsed.matches(labels: $0["metadata"]["labels"]) } ?? false }
    }

    /// The namespace's labels satisfy the selector (a Namespace's own; cluster-scoped objects
    /// always do).
    static func namespaceSelectorMatches(_ selector: JSON, _ request: AdmissionRequest) async -> Bool {
        if selector.isNull || selector == .emptyObject { return true }
        guard let parsed = try? LabelSelector.fromStructured(selector) else { return false }
        if request.def.group.isEmpty && request.def.plural == "namespaces" {
            return parsed.matches(labels: (request.operation == .delete ? request.old : request.object)?["metadata"]["labels"] ?? .null)
        }
        guard request.def.namespaced else { return true }
        let namespace = try? await request.get("namespaces", name: request.namespace)
        return parsed.matches(labels: namespace?["metadata"]["labels"] ?? .null)
    }

    /// A policy's or binding's matchResources: one of its resourceRules, none of its
    /// excludeResourceRules, and its selectors.
    static func resourcesMatch(_ match: JSON, _ request: AdmissionRequest) async -> Bool {
        guard (match["resourceRules"].array ?? []).contains(where: { ruleMatches($0, request) }) else { return false }
        if (match["excludeResourceRules"].array ?? []).contains(where: { ruleMatches($0, request) }) { return false }
        guard objectSelectorMatches(match["objectSelector"], request) else { return false }
        return await namespaceSelectorMatches(match["namespaceSelector"], request)
    }
}
