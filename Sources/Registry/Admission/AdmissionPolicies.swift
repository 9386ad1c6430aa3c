import APIMachinery
import CEL
import Foundation
import Resources

/// What admission policies (validating and mutating) share, as upstream's generic policy plugin
/// has it: each binding of a policy whose constraints (and the binding's own match) cover the
/// write, with its params, and the CEL variables the policy's expressions see.
struct PolicyBinding {
    let policy: JSON
    let binding: JSON
    let params: JSON?
    /// The resource the policy sees the write as: the one the request was made to, or an
    /// equivalent version its rules name (matchPolicy Equivalent).
    let seen: ResourceDefinition
    var policyName: String { policy["metadata"]["name"].string ?? "" }
    var bindingName: String { binding["metadata"]["name"].string ?? "" }
    var failsOpen: Bool { policy["spec"]["failurePolicy"].string == "Ignore" }

    /// The names CEL expressions of a policy may use.
    static let variables: Set<String> = ["object", "oldObject", "request", "params", "namespaceObject", "authorizer", "variables"]

    /// The bindings whose policy applies to this write, in binding-name order, each with its
    /// params; a binding whose params cannot be found denies (or is skipped) as its
    /// parameterNotFoundAction says.
    static func matching(_ request: AdmissionRequest, policies: [String: JSON], bindings: [JSON]) async throws(StatusError) -> [PolicyBinding] {
        var out: [PolicyBinding] = []
        for binding in bindings {
            guard let policy = policies[binding["spec"]["policyName"].string ?? ""] else { continue }
            let constraints = policy["spec"]["matchConstraints"]
            guard let seen = AdmissionMatching.matchingRequest(constraints["resourceRules"].array ?? [], matchPolicy: constraints["matchPolicy"].string, request),
                  await AdmissionMatching.resourcesMatch(constraints, seen) else { continue }
            let own = binding["spec"]["matchResources"]
            if case .object = own, !(own["resourceRules"].array ?? []).isEmpty || !(own["excludeResourceRules"].array ?? []).isEmpty
                || !own["namespaceSelector"].isNull || !own["objectSelector"].isNull {
                var scoped = own
                if (scoped["resourceRules"].array ?? []).isEmpty { scoped["resourceRules"] = constraints["resourceRules"] }
                guard await AdmissionMatching.resourcesMatch(scoped, seen) else { continue }
            }
            var params: JSON? = nil
            if let kind = policy["spec"]["paramKind"].object, let ref = binding["spec"]["paramRef"].object {
                params = try await Self.params(kind: JSON.object(kind), ref: JSON.object(ref), request)
                if params == nil {
                    if ref["parameterNotFoundAction"]?.string == "Allow" { continue }
                    let name = policy["metadata"]["name"].string ?? ""
                    throw request.forbidden("policy '\(name)' with binding '\(binding["metadata"]["name"].string ?? "")' denied request: "
                                            + "failed to configure binding: no params found for policy binding with `Deny` parameterNotFoundAction")
                }
            }
            out.append(PolicyBinding(policy: policy, binding: binding, params: params, seen: seen.def))
        }
        return out
    }

    /// The binding's params object: by name, or the first a selector picks; in the paramRef's
    /// namespace, else the request's, for a namespaced kind.
    static func params(kind: JSON, ref: JSON, _ request: AdmissionRequest) async throws(StatusError) -> JSON? {
        let gv = GroupVersion(apiVersion: kind["apiVersion"].string ?? "") ?? GroupVersion(group: "", version: "v1")
        guard let def = request.registry.catalog.lookup(group: gv.group, version: gv.version, kind: kind["kind"].string ?? "") else { return nil }
        let namespace = def.namespaced ? (ref["namespace"].string ?? request.namespace) : nil
        if let name = ref["name"].string, !name.isEmpty {
            return try? await request.registry.get(def, namespace: namespace, name: name)
        }
        var options = ListOptions()
        if let selector = try? LabelSelector.fromStructured(ref["selector"]) { options.labelSelector = selector }
        let items = (try? await request.registry.list(def, namespace: namespace, options: options).items) ?? []
        return items.first.flatMap { try? JSON.parse($0) }
    }

    /// The write as the policy sees it (see `seen`).
    func view(_ request: AdmissionRequest) -> AdmissionRequest {
        request.def.groupVersion == seen.groupVersion ? request : request.converted(to: seen)
    }

    /// The variables of this binding's expressions for this write.
    func variables(_ made: AdmissionRequest) async -> [String: CELValue] {
        let request = view(made)
        let review = AdmissionWebhook.review(request, made: made.def, uid: "", version: "v1")["request"]
        var namespaceObject: CELValue = .null
        if request.def.namespaced, !request.namespace.isEmpty, let ns = try? await request.get("namespaces", name: request.namespace) {
            namespaceObject = CELValue.from(ns)
        }
        var vars: [String: CELValue] = [
            "object": request.operation == .delete ? .null : CELValue.from(request.object),
            "oldObject": request.operation == .create ? .null : CELValue.from(request.old ?? .null),
            "request": CELValue.from(review), "params": params.map { CELValue.from($0) } ?? .null,
            "namespaceObject": namespaceObject,
        ]
        // spec.variables: each sees those before it.
        var composed: [(key: CELValue, value: CELValue)] = []
        for variable in policy["spec"]["variables"].array ?? [] {
            guard let name = variable["name"].string, let text = variable["expression"].string else { continue }
            vars["variables"] = .map(composed)
            let value = (try? CELProgram.cached(text, variables: Self.variables))?.evaluate(vars) ?? .error("compilation failed")
            composed.append((.string(name), value))
        }
        vars["variables"] = .map(composed)
        return vars
    }

    /// Whether the policy's matchConditions all hold; an error when one cannot be evaluated.
    enum Conditions { case hold, fail, error(String) }

    func conditionsHold(_ vars: [String: CELValue]) -> Conditions {
        for condition in policy["spec"]["matchConditions"].array ?? [] {
            guard let text = condition["expression"].string else { continue }
            switch (try? CELProgram.cached(text, variables: Self.variables))?.evaluate(vars) ?? .error("compilation failed") {
            case .bool(true): continue
            case .bool(false): return .fail
            case let other: return .error("expression '\(text)' resulted in error: \(other.text)")
            }
        }
        return .hold
    }
}

/// upstream's ValidatingAdmissionPolicy plugin: each binding's validations, with its
/// validationActions: Deny refuses the write, Warn returns a warning, Audit is only recorded
/// (Cubby keeps no audit log, so it is dropped).
public struct ValidatingAdmissionPolicy: AdmissionPlugin {
    let configurations: AdmissionConfigurations

    public init(configurations: AdmissionConfigurations) { self.configurations = configurations }

    public func validate(_ request: AdmissionRequest) async throws(StatusError) {
        guard !configurations.isEmpty(.validatingBindings), !AdmissionWebhook.isExempt(request) else { return }
        let policies = Dictionary(configurations.objects(.validatingPolicies).map { ($0["metadata"]["name"].string ?? "", $0) }) { a, _ in a }
        for bound in try await PolicyBinding.matching(request, policies: policies, bindings: configurations.objects(.validatingBindings)) {
            let vars = await bound.variables(request)
            let actions = Set((bound.binding["spec"]["validationActions"].array ?? []).compactMap(\.string))
            let prefix = "ValidatingAdmissionPolicy '\(bound.policyName)' with binding '\(bound.bindingName)'"
            switch bound.conditionsHold(vars) {
            case .fail: continue
            case .error(let message):
                if bound.failsOpen { continue }
                throw request.forbidden("\(prefix) denied request: \(message)")
            case .hold: break
            }
            for validation in bound.policy["spec"]["validations"].array ?? [] {
                guard let text = validation["expression"].string else { continue }
                let result = (try? CELProgram.cached(text, variables: PolicyBinding.variables))?.evaluate(vars) ?? .error("compilation failed")
                var message: String
                switch result {
                case .bool(true): continue
                case .bool(false):
                    message = validation["message"].string.flatMap { $0.isEmpty ? nil : $0 } ?? "failed expression: \(text)"
                    if let expression = validation["messageExpression"].string, !expression.isEmpty,
                       case .string(let computed)? = (try? CELProgram.cached(expression, variables: PolicyBinding.variables))?.evaluate(vars),
                       !computed.isEmpty { message = computed }
                default:
                    if bound.failsOpen { continue }
                    message = "expression '\(text)' resulted in error: \(result.text)"
                }
                if actions.contains("Warn") { Warnings.record("Validation failed for \(prefix): \(message)") }
                if actions.contains("Deny") {
                    throw Self.denial(validation["reason"].string ?? "Forbidden", "\(prefix) denied request: \(message)", request)
                }
            }
        }
    }

    /// The refusal, by the validation's reason: Forbidden (403, the default), Invalid (422),
    /// RequestEntityTooLarge (413).
    static func denial(_ reason: String, _ message: String, _ request: AdmissionRequest) -> StatusError {
        let name = request.name
        let qualified = StatusError.qualified(request.def.groupResource)
        switch reason {
        case "Invalid": return StatusError(code: 422, reason: "Invalid", message: "\(qualified) \"\(name)\" is invalid: \(message)")
        case "RequestEntityTooLarge": return StatusError(code: 413, reason: "RequestEntityTooLarge", message: message)
        default: return request.forbidden(message)
        }
    }
}

/// upstream's MutatingAdmissionPolicy plugin: each binding's mutations, in order, applied to the
/// object: a JSONPatch expression's patch, or an ApplyConfiguration expression's object merged in
/// (maps merged, other values replaced).
public struct MutatingAdmissionPolicy: AdmissionPlugin {
    let configurations: AdmissionConfigurations

    public init(configurations: AdmissionConfigurations) { self.configurations = configurations }

    public func admit(_ request: inout AdmissionRequest) async throws(StatusError) {
        guard !configurations.isEmpty(.mutatingBindings), request.operation != .delete, !AdmissionWebhook.isExempt(request) else { return }
        let policies = Dictionary(configurations.objects(.mutatingPolicies).map { ($0["metadata"]["name"].string ?? "", $0) }) { a, _ in a }
        for bound in try await PolicyBinding.matching(request, policies: policies, bindings: configurations.objects(.mutatingBindings)) {
            let prefix = "MutatingAdmissionPolicy '\(bound.policyName)' with binding '\(bound.bindingName)'"
            switch bound.conditionsHold(await bound.variables(request)) {
            case .fail: continue
            case .error(let message):
                if bound.failsOpen { continue }
                throw request.forbidden("\(prefix) denied request: \(message)")
            case .hold: break
            }
            for mutation in bound.policy["spec"]["mutations"].array ?? [] {
                let vars = await bound.variables(request)  // each mutation sees the object as the last left it
                let jsonPatch = mutation["patchType"].string == "JSONPatch"
                let text = (jsonPatch ? mutation["jsonPatch"]["expression"] : mutation["applyConfiguration"]["expression"]).string ?? ""
                let result = (try? CELProgram.cached(text, variables: PolicyBinding.variables.union(["Object", "JSONPatch"])))?.evaluate(vars)
                    ?? .error("compilation failed")
                if case .error(let message) = result {
                    if bound.failsOpen { continue }
                    throw request.forbidden("\(prefix) denied request: expression '\(text)' resulted in error: \(message)")
                }
                let value = result.json, object = bound.view(request).object
                let mutated = jsonPatch ? try JSONPatch.apply(value, to: object) : Self.merge(value, into: object)
                request.object = bound.seen.convert(mutated, to: request.def)
            }
        }
    }

    /// An apply configuration merged into the object: maps key by key, anything else replaced.
    static func merge(_ patch: JSON, into target: JSON) -> JSON {
        guard case .object(let changes) = patch, case .object(var merged) = target else { return patch }
        for (key, value) in changes { merged[key] = merge(value, into: merged[key] ?? .null) }
        return .object(merged)
    }
}
