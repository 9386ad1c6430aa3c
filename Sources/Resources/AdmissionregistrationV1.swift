import APIMachinery
import CEL
import Foundation

/// admissionregistration.k8s.io/v1 webhook configurations: upstream's defaults (failurePolicy
/// Fail, matchPolicy Equivalent, empty selectors, 10 s, scope "*", service port 443) and
/// validation, in its words. The admission chain's webhook plugins call what they declare.
public enum AdmissionregistrationV1 {
    static let group = "admissionregistration.k8s.io"

    public static let resources: [ResourceDefinition] = [
        configuration("ValidatingWebhookConfiguration", "validatingwebhookconfigurations", mutating: false),
        configuration("MutatingWebhookConfiguration", "mutatingwebhookconfigurations", mutating: true),
        policy("ValidatingAdmissionPolicy", "validatingadmissionpolicies", hasStatus: true,
               columns: [count("Validations", ["spec", "validations"]), .field("ParamKind", ["spec", "paramKind", "kind"])]),
        policy("ValidatingAdmissionPolicyBinding", "validatingadmissionpolicybindings",
               columns: [.field("PolicyName", ["spec", "policyName"]), .field("ParamRef", ["spec", "paramRef", "name"])]),
        policy("MutatingAdmissionPolicy", "mutatingadmissionpolicies",
               columns: [count("Mutations", ["spec", "mutations"]), .field("ParamKind", ["spec", "paramKind", "kind"])]),
        policy("MutatingAdmissionPolicyBinding", "mutatingadmissionpolicybindings",
               columns: [.field("PolicyName", ["spec", "policyName"]), .field("ParamRef", ["spec", "paramRef", "name"])]),
    ]

    static func count(_ name: String, _ path: [String]) -> PrinterColumn {
        PrinterColumn(name, type: "integer") { .int(Int64($0[path: path].array?.count ?? 0)) }
    }

    static func policy(_ kind: String, _ plural: String, hasStatus: Bool = false, columns: [PrinterColumn]) -> ResourceDefinition {
        ResourceDefinition(
            group: group, version: "v1", kind: kind, plural: plural, categories: ["api-extensions"], namespaced: false, hasStatus: hasStatus,
            strategy: ResourceStrategy(defaults: { AdmissionPolicyRules.defaults(&$0, kind: kind) }, validate: { AdmissionPolicyRules.validate($0, kind: kind) }),
            columns: columns + [.age], schemaName: "io.k8s.api.admissionregistration.v1.\(kind)")
    }

    static func configuration(_ kind: String, _ plural: String, mutating: Bool) -> ResourceDefinition {
        ResourceDefinition(
            group: group, version: "v1", kind: kind, plural: plural, categories: ["api-extensions"], namespaced: false,
            strategy: ResourceStrategy(defaults: { defaults(&$0, mutating: mutating) }, validate: { validate($0, mutating: mutating) }),
            columns: [count("Webhooks", ["webhooks"]), .age],
            schemaName: "io.k8s.api.admissionregistration.v1.\(kind)")
    }

    static func defaults(_ config: inout JSON, mutating: Bool) {
        guard var hooks = config["webhooks"].array else { return }
        for i in hooks.indices {
            func fill(_ field: String, _ value: JSON) { if hooks[i][field].isNull { hooks[i][field] = value } }
            fill("failurePolicy", "Fail")
            fill("matchPolicy", "Equivalent")
            fill("namespaceSelector", .emptyObject)
            fill("objectSelector", .emptyObject)
            fill("timeoutSeconds", .int(10))
            if mutating { fill("reinvocationPolicy", "Never") }
            if var rules = hooks[i]["rules"].array {
                for r in rules.indices where rules[r]["scope"].isNull { rules[r]["scope"] = "*" }
                hooks[i]["rules"] = .array(rules)
            }
            if !hooks[i]["clientConfig"]["service"].isNull, hooks[i]["clientConfig"]["service"]["port"].isNull {
                hooks[i]["clientConfig"]["service"]["port"] = .int(443)
            }
        }
        config["webhooks"] = .array(hooks)
    }

    static func validate(_ config: JSON, mutating: Bool) -> [FieldError] {
        var errors: [FieldError] = []
        var names: Set<String> = []
        for (i, hook) in (config["webhooks"].array ?? []).enumerated() {
            let path = "webhooks[\(i)]"
            let name = hook["name"].string ?? ""
            errors += fullyQualifiedName("\(path).name", name)
            for (r, rule) in (hook["rules"].array ?? []).enumerated() { errors += validateRule(rule, "\(path).rules[\(r)]") }
            func oneOf(_ field: String, _ supported: [String]) {
                if let value = hook[field].string, !supported.contains(value) { errors.append(.notSupported("\(path).\(field)", .string(value), supported)) }
            }
            oneOf("failurePolicy", ["Fail", "Ignore"])
            oneOf("matchPolicy", ["Equivalent", "Exact"])
            if hook["sideEffects"].isNull {
                errors.append(.required("\(path).sideEffects", "must specify one of None, NoneOnDryRun"))
            } else {
                oneOf("sideEffects", ["None", "NoneOnDryRun"])
            }
            if let timeout = hook["timeoutSeconds"].int, timeout < 1 || timeout > 30 {
                errors.append(.invalid("\(path).timeoutSeconds", .int(timeout), "the timeout value must be between 1 and 30 seconds"))
            }
            errors += SelectorValidation.labelSelector(hook["namespaceSelector"], "\(path).namespaceSelector")
            errors += SelectorValidation.labelSelector(hook["objectSelector"], "\(path).objectSelector")
            if mutating { oneOf("reinvocationPolicy", ["IfNeeded", "Never"]) }
            errors += validateClientConfig(hook["clientConfig"], "\(path).clientConfig")
            errors += validateMatchConditions(hook["matchConditions"].array ?? [], "\(path).matchConditions")
            errors += validateReviewVersions((hook["admissionReviewVersions"].array ?? []).compactMap(\.string), "\(path).admissionReviewVersions")
            if !name.isEmpty, !names.insert(name).inserted { errors.append(.duplicate("\(path).name", .string(name))) }
        }
        return errors
    }

    /// upstream's IsFullyQualifiedName: a DNS subdomain of at least three segments.
    static func fullyQualifiedName(_ path: String, _ name: String) -> [FieldError] {
        if name.isEmpty { return [.required(path)] }
        let problems = NameValidation.dns1123Subdomain(name)
        if !problems.isEmpty { return [.invalid(path, .string(name), problems.joined(separator: ","))] }
        if name.split(separator: ".", omittingEmptySubsequences: false).count < 3 {
            return [.invalid(path, .string(name), "should be a domain with at least three segments separated by dots")]
        }
        return []
    }

    static func validateRule(_ rule: JSON, _ path: String) -> [FieldError] {
        var errors: [FieldError] = []
        let operations = (rule["operations"].array ?? []).compactMap(\.string)
        if operations.isEmpty { errors.append(.required("\(path).operations")) }
        if operations.count > 1, operations.contains("*") {
            errors.append(.invalid("\(path).operations", .array(operations.map(JSON.string)), "if '*' is present, must not specify other operations"))
        }
        let supported = ["*", "CONNECT", "CREATE", "DELETE", "UPDATE"]
        for (i, op) in operations.enumerated() where !supported.contains(op) {
            errors.append(.notSupported("\(path).operations[\(i)]", .string(op), supported))
        }
        for (field, what) in [("apiGroups", "API groups"), ("apiVersions", "API versions")] {
            let values = (rule[field].array ?? []).compactMap(\.string)
            if values.isEmpty { errors.append(.required("\(path).\(field)")) }
            if values.count > 1, values.contains("*") {
                errors.append(.invalid("\(path).\(field)", .array(values.map(JSON.string)), "if '*' is present, must not specify other \(what)"))
            }
        }
        let resources = (rule["resources"].array ?? []).compactMap(\.string)
        if resources.isEmpty { errors.append(.required("\(path).resources")) }
        for (i, resource) in resources.enumerated() where resource.isEmpty { errors.append(.required("\(path).resources[\(i)]")) }
        if resources.count > 1, resources.contains("*/*") {
            errors.append(.invalid("\(path).resources", .array(resources.map(JSON.string)), "if '*/*' is present, must not specify other resources"))
        }
        if resources.contains("*"), resources.contains(where: { $0 != "*" && !$0.contains("/") }) {
            errors.append(.invalid("\(path).resources", .array(resources.map(JSON.string)), "if '*' is present, must not specify other resources without subresources"))
        }
        if let scope = rule["scope"].string, !["*", "Cluster", "Namespaced"].contains(scope) {
            errors.append(.notSupported("\(path).scope", .string(scope), ["*", "Cluster", "Namespaced"]))
        }
        return errors
    }

    static func validateClientConfig(_ config: JSON, _ path: String) -> [FieldError] {
        let url = config["url"].string, service = config["service"]
        if (url == nil) == service.isNull { return [.required(path, "exactly one of url or service is required")] }
        let form = "; desired format: https://host[/path]"
        if let url {
            guard let parsed = URLComponents(string: url) else { return [.required("\(path).url", "url must be a valid URL\(form)")] }
            var errors: [FieldError] = []
            if parsed.scheme != "https" { errors.append(.invalid("\(path).url", .string(parsed.scheme ?? ""), "'https' is the only allowed URL scheme\(form)")) }
            if (parsed.host ?? "").isEmpty { errors.append(.invalid("\(path).url", .string(""), "host must be specified\(form)")) }
            if parsed.user != nil { errors.append(.invalid("\(path).url", .string(parsed.user ?? ""), "user information is not permitted in the URL")) }
            if let fragment = parsed.fragment { errors.append(.invalid("\(path).url", .string(fragment), "fragments are not permitted in the URL")) }
            if let query = parsed.query { errors.append(.invalid("\(path).url", .string(query), "query parameters are not permitted in the URL")) }
            return errors
        }
        var errors: [FieldError] = []
        if (service["name"].string ?? "").isEmpty { errors.append(.required("\(path).service.name", "service name is required")) }
        if (service["namespace"].string ?? "").isEmpty { errors.append(.required("\(path).service.namespace", "service namespace is required")) }
        if let port = service["port"].int, !(1...65535).contains(port) {
            errors.append(.invalid("\(path).service.port", .int(port), "port is not valid: must be between 1 and 65535, inclusive"))
        }
        if let urlPath = service["path"].string, !urlPath.isEmpty, urlPath != "/", !urlPath.hasPrefix("/") {
            errors.append(.invalid("\(path).service.path", .string(urlPath), "must start with a '/'"))
        }
        return errors
    }

    /// Named CEL conditions (at most 64, names unique qualified names) that compile against
    /// object, oldObject, request and authorizer.
    static func validateMatchConditions(_ conditions: [JSON], _ path: String) -> [FieldError] {
        var errors: [FieldError] = []
        if conditions.count > 64 { errors.append(.invalid(path, .int(Int64(conditions.count)), "must have at most 64 items")) }
        var names: Set<String> = []
        for (i, condition) in conditions.enumerated() {
            let name = condition["name"].string ?? ""
            if name.isEmpty { errors.append(.required("\(path)[\(i)].name")) }
            else {
                errors += NameValidation.qualifiedName(name).map { .invalid("\(path)[\(i)].name", .string(name), $0) }
                if !names.insert(name).inserted { errors.append(.duplicate("\(path)[\(i)].name", .string(name))) }
            }
            let expression = condition["expression"].string ?? ""
            if expression.isEmpty { errors.append(.required("\(path)[\(i)].expression")); continue }
            do throws(CELSyntaxError) { _ = try CELProgram(expression, variables: ["object", "oldObject", "request", "authorizer"]) } catch {
                errors.append(.invalid("\(path)[\(i)].expression", .string(expression), "compilation failed: \(error)"))
            }
        }
        return errors
    }

    static func validateReviewVersions(_ versions: [String], _ path: String) -> [FieldError] {
        if versions.isEmpty { return [.required(path, "must specify one of v1, v1beta1")] }
        var errors: [FieldError] = []
        var seen: Set<String> = []
        for (i, version) in versions.enumerated() {
            if !seen.insert(version).inserted { errors.append(.invalid("\(path)[\(i)]", .string(version), "duplicate version")); continue }
            errors += NameValidation.dns1035Label(version).map { .invalid("\(path)[\(i)]", .string(version), $0) }
        }
        if !versions.contains("v1") && !versions.contains("v1beta1") {
            errors.append(.invalid(path, .array(versions.map(JSON.string)), "must include at least one of v1, v1beta1"))
        }
        return errors
    }
}
