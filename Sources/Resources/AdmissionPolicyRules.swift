import APIMachinery
import CEL

/// Defaults and validation of ValidatingAdmissionPolicy, MutatingAdmissionPolicy and their
/// bindings, as upstream's: failurePolicy Fail, matchPolicy Equivalent, empty selectors, scope
/// "*"; every CEL expression compiled when the policy is written.
enum AdmissionPolicyRules {
    static let celVariables: Set<String> = ["object", "oldObject", "request", "params", "namespaceObject", "authorizer", "variables"]

    static func defaults(_ o: inout JSON, kind: String) {
        if kind.hasSuffix("Policy") {
            if o["spec"]["failurePolicy"].isNull { o["spec"]["failurePolicy"] = "Fail" }
            if kind == "MutatingAdmissionPolicy", o["spec"]["reinvocationPolicy"].isNull { o["spec"]["reinvocationPolicy"] = "Never" }
            defaultMatch(&o["spec"]["matchConstraints"])
        } else if case .object = o["spec"]["matchResources"] {
            defaultMatch(&o["spec"]["matchResources"])
        }
    }

    static func defaultMatch(_ match: inout JSON) {
        guard case .object = match else { return }
        if match["matchPolicy"].isNull { match["matchPolicy"] = "Equivalent" }
        if match["namespaceSelector"].isNull { match["namespaceSelector"] = .emptyObject }
        if match["objectSelector"].isNull { match["objectSelector"] = .emptyObject }
        for field in ["resourceRules", "excludeResourceRules"] {
            guard var rules = match[field].array else { continue }
            for i in rules.indices where rules[i]["scope"].isNull { rules[i]["scope"] = "*" }
            match[field] = .array(rules)
        }
    }

    static func validate(_ o: JSON, kind: String) -> [FieldError] {
        let spec = o["spec"]
        var errors: [FieldError] = []
        if kind.hasSuffix("Binding") {
            if (spec["policyName"].string ?? "").isEmpty { errors.append(.required("spec.policyName")) }
            if kind == "ValidatingAdmissionPolicyBinding" {
                let actions = (spec["validationActions"].array ?? []).compactMap(\.string)
                if actions.isEmpty { errors.append(.required("spec.validationActions", "at least one validation action is required")) }
                for (i, a) in actions.enumerated() where !["Audit", "Deny", "Warn"].contains(a) {
                    errors.append(.notSupported("spec.validationActions[\(i)]", .string(a), ["Audit", "Deny", "Warn"]))
                }
                if actions.contains("Deny") && actions.contains("Warn") {
                    errors.append(.invalid("spec.validationActions", .array(actions.map(JSON.string)),
                                           "must not contain both Deny and Warn (repeating the same validation failure information in the API response and headers serves no purpose)"))
                }
            }
            if case .object = spec["paramRef"] {
                let ref = spec["paramRef"]
                if ref["name"].string != nil && !ref["selector"].isNull {
                    errors.append(.forbidden("spec.paramRef.name", "name and selector are mutually exclusive"))
                }
                if ref["name"].string == nil && ref["selector"].isNull {
                    errors.append(.required("spec.paramRef", "one of name or selector must be set"))
                }
                if let action = ref["parameterNotFoundAction"].string {
                    if !["Allow", "Deny"].contains(action) { errors.append(.notSupported("spec.paramRef.parameterNotFoundAction", .string(action), ["Allow", "Deny"])) }
                } else {
                    errors.append(.required("spec.paramRef.parameterNotFoundAction"))
                }
            }
            return errors
        }
        if let policy = spec["failurePolicy"].string, !["Fail", "Ignore"].contains(policy) {
            errors.append(.notSupported("spec.failurePolicy", .string(policy), ["Fail", "Ignore"]))
        }
        if spec["matchConstraints"].isNull { errors.append(.required("spec.matchConstraints")) }
        else if (spec["matchConstraints"]["resourceRules"].array ?? []).isEmpty {
            errors.append(.required("spec.matchConstraints.resourceRules"))
        }
        func compile(_ text: String?, _ path: String, extra: Set<String> = []) {
            guard let text, !text.isEmpty else { errors.append(.required(path)); return }
            do throws(CELSyntaxError) { _ = try CELProgram(text, variables: celVariables.union(extra)) } catch {
                errors.append(.invalid(path, .string(text), "compilation failed: \(error)"))
            }
        }
        for (i, v) in (spec["variables"].array ?? []).enumerated() { compile(v["expression"].string, "spec.variables[\(i)].expression") }
        for (i, c) in (spec["matchConditions"].array ?? []).enumerated() { compile(c["expression"].string, "spec.matchConditions[\(i)].expression") }
        if kind == "ValidatingAdmissionPolicy" {
            let validations = spec["validations"].array ?? []
            if validations.isEmpty && (spec["auditAnnotations"].array ?? []).isEmpty {
                errors.append(.required("spec.validations", "validations or auditAnnotations must contain at least one item"))
            }
            for (i, v) in validations.enumerated() {
                compile(v["expression"].string, "spec.validations[\(i)].expression")
                if let m = v["messageExpression"].string, !m.isEmpty { compile(m, "spec.validations[\(i)].messageExpression") }
                if let reason = v["reason"].string, !["Forbidden", "Invalid", "RequestEntityTooLarge"].contains(reason) {
                    errors.append(.notSupported("spec.validations[\(i)].reason", .string(reason), ["Forbidden", "Invalid", "RequestEntityTooLarge"]))
                }
            }
        } else {
            let mutations = spec["mutations"].array ?? []
            if mutations.isEmpty { errors.append(.required("spec.mutations", "mutations must contain at least one item")) }
            for (i, m) in mutations.enumerated() {
                switch m["patchType"].string {
                case "JSONPatch": compile(m["jsonPatch"]["expression"].string, "spec.mutations[\(i)].jsonPatch.expression")
                case "ApplyConfiguration": compile(m["applyConfiguration"]["expression"].string, "spec.mutations[\(i)].applyConfiguration.expression")
                case let other: errors.append(.notSupported("spec.mutations[\(i)].patchType", .string(other ?? ""), ["ApplyConfiguration", "JSONPatch"]))
                }
            }
        }
        return errors
    }
}
