import APIMachinery

/// Upstream's ValidateLabelSelector (meta/v1 validation): matchLabels as labels, each
/// matchExpressions requirement a qualified key, a known operator, values as the operator needs
/// them and each a valid label value; in upstream's words.
public enum SelectorValidation {
    public static func labelSelector(_ selector: JSON, _ path: String) -> [FieldError] {
        guard case .object = selector else { return [] }
        var errors: [FieldError] = []
        for (key, value) in selector["matchLabels"].stringMap.sorted(by: { $0.key < $1.key }) {
            for message in NameValidation.qualifiedName(key) { errors.append(.invalid("\(path).matchLabels", .string(key), message)) }
            for message in NameValidation.labelValue(value) { errors.append(.invalid("\(path).matchLabels", .string(value), message)) }
        }
        for (i, requirement) in (selector["matchExpressions"].array ?? []).enumerated() {
            let at = "\(path).matchExpressions[\(i)]"
            let values = requirement["values"].array ?? []
            switch requirement["operator"].string ?? "" {
            case "In", "NotIn":
                if values.isEmpty { errors.append(.required("\(at).values", "must be specified when `operator` is 'In' or 'NotIn'")) }
            case "Exists", "DoesNotExist":
                if !values.isEmpty { errors.append(.forbidden("\(at).values", "may not be specified when `operator` is 'Exists' or 'DoesNotExist'")) }
            case let op:
                errors.append(.invalid("\(at).operator", .string(op), "not a valid selector operator"))
            }
            let key = requirement["key"].string ?? ""
            for message in NameValidation.qualifiedName(key) { errors.append(.invalid("\(at).key", .string(key), message)) }
            for (j, value) in values.enumerated() {
                for message in NameValidation.labelValue(value.string ?? "") { errors.append(.invalid("\(at).values[\(j)]", value, message)) }
            }
        }
        return errors
    }

    /// ValidateClusterRole's part beyond the rules: an aggregationRule needs selectors, each valid.
    public static func clusterRole(_ o: JSON) -> [FieldError] {
        let rule = o["aggregationRule"]
        guard case .object = rule else { return [] }
        let selectors = rule["clusterRoleSelectors"].array ?? []
        if selectors.isEmpty {
            return [.required("aggregationRule.clusterRoleSelectors", "at least one clusterRoleSelector required if aggregationRule is non-nil")]
        }
        return selectors.enumerated().flatMap { labelSelector($1, "aggregationRule.clusterRoleSelectors[\($0)]") }
    }
}
