import APIMachinery
import CEL
import Foundation
import Resources

/// Where one webhook call goes: the address to dial, the name its certificate must carry, the CA
/// bundle to trust (the system's when nil), and the URL as error messages show it.
public struct WebhookTarget: Sendable {
    public var host: String
    public var port: Int
    /// Path and query, e.g. `/validate?timeout=10s`.
    public var path: String
    public var serverName: String
    public var caBundle: [UInt8]?
    public var url: String
}

/// How the API server reaches a webhook: one HTTPS POST of a JSON body, its answer's body; a
/// failure described as Go's HTTP client describes it (`dial tcp ...: connect: connection refused`).
public protocol AdmissionWebhookTransport: Sendable {
    func post(_ target: WebhookTarget, body: [UInt8], timeout: Duration) async throws -> [UInt8]
}

/// One webhook of a configuration, as upstream's generic webhook dispatcher uses it: whether a
/// request matches it (rules, scope, namespaceSelector, objectSelector), the AdmissionReview it
/// is sent, and what its answer means.
struct AdmissionWebhook {
    let spec: JSON
    var name: String { spec["name"].string ?? "" }
    var failsOpen: Bool { spec["failurePolicy"].string == "Ignore" }

    /// Configurations of admission itself are never sent to webhooks, so a broken webhook cannot
    /// lock its own fix out (upstream's IsExemptAdmissionConfigurationResource).
    static let exempt: Set<String> = [
        "validatingwebhookconfigurations", "mutatingwebhookconfigurations", "validatingadmissionpolicies",
        "validatingadmissionpolicybindings", "mutatingadmissionpolicies", "mutatingadmissionpolicybindings",
    ]

    static func isExempt(_ request: AdmissionRequest) -> Bool {
        request.def.group == "admissionregistration.k8s.io" && exempt.contains(request.def.plural)
    }

    // MARK: matching

    /// The write as this webhook is to see it (in the version its rules name, see
    /// AdmissionMatching.matchingRequest), or nil when it does not go to it: its rules and
    /// selectors, then its matchConditions (CEL on object, oldObject and request); a condition
    /// that fails to evaluate refuses the write unless failurePolicy is Ignore.
    func matching(_ made: AdmissionRequest) async throws(StatusError) -> AdmissionRequest? {
        guard let request = AdmissionMatching.matchingRequest(spec["rules"].array ?? [], matchPolicy: spec["matchPolicy"].string, made),
              AdmissionMatching.objectSelectorMatches(spec["objectSelector"], request),
              await AdmissionMatching.namespaceSelectorMatches(spec["namespaceSelector"], request) else { return nil }
        let conditions = spec["matchConditions"].array ?? []
        if conditions.isEmpty { return request }
        let review = Self.review(request, made: made.def, uid: "", version: "v1")["request"]
        let vars: [String: CELValue] = ["object": request.operation == .delete ? .null : CELValue.from(request.object),
                                        "oldObject": request.operation == .create ? .null : CELValue.from(request.old ?? .null),
                                        "request": CELValue.from(review)]
        for condition in conditions {
            let text = condition["expression"].string ?? ""
            let result = (try? CELProgram.cached(text, variables: ["object", "oldObject", "request", "authorizer"]))?.evaluate(vars) ?? .error("compilation failed")
            switch result {
            case .bool(true): continue
            case .bool(false): return nil
            default:
                if failsOpen { return nil }
                throw .internalError("failed calling webhook \"\(name)\": failed to evaluate match condition \"\(condition["name"].string ?? "")\": \(result.text)")
            }
        }
        return request
    }

    // MARK: calling

    /// The webhook's answer to this request (as `matching` converted it from the one `made`), or
    /// the error that refuses it. A call that fails
    /// (unreachable, too slow, an answer it cannot read) refuses it unless failurePolicy is Ignore.
    func call(_ request: AdmissionRequest, made: ResourceDefinition, transport: any AdmissionWebhookTransport) async throws(StatusError) -> JSON? {
        if request.dryRun, !["None", "NoneOnDryRun"].contains(spec["sideEffects"].string ?? "") {
            throw .badRequest("admission webhook \"\(name)\" does not support dry run")
        }
        let uid = UUID().uuidString.lowercased()
        let version = (spec["admissionReviewVersions"].array ?? []).contains("v1") ? "v1" : "v1beta1"
        let seconds = spec["timeoutSeconds"].int ?? 10
        let answer: JSON
        do {
            let target = try await self.target(request.registry, timeoutSeconds: seconds)
            let review = Self.review(request, made: made, uid: uid, version: version)
            let body: [UInt8]
            do {
                body = try await transport.post(target, body: Array(review.jsonString.utf8), timeout: .seconds(seconds))
            } catch {
                throw Failure("failed to call webhook: Post \"\(target.url)\": \(error)")
            }
            guard let parsed = try? JSON.parse(body) else { throw Failure("received invalid webhook response: the body is not JSON") }
            let expected = "admission.k8s.io/\(version)"
            guard parsed["apiVersion"].string == expected, parsed["kind"].string == "AdmissionReview" else {
                throw Failure("expected webhook response of \(expected), Kind=AdmissionReview, got \(parsed["apiVersion"].string ?? ""), Kind=\(parsed["kind"].string ?? "")")
            }
            guard parsed["response"]["uid"].string == uid else {
                throw Failure("expected response.uid=\"\(uid)\", got \"\(parsed["response"]["uid"].string ?? "")\"")
            }
            answer = parsed["response"]
        } catch let failure as Failure {
            if failsOpen { return nil }
            throw .internalError("failed calling webhook \"\(name)\": \(failure.message)")
        } catch {
            if failsOpen { return nil }
            throw .internalError("failed calling webhook \"\(name)\": \(error)")
        }
        for warning in answer["warnings"].array ?? [] { if let text = warning.string { Warnings.record(text) } }
        guard answer["allowed"].bool == true else { throw denied(answer["status"]) }
        return answer
    }

    struct Failure: Error, CustomStringConvertible {
        let message: String
        init(_ message: String) { self.message = message }
        var description: String { message }
    }

    /// upstream's ToStatusErr: the webhook's Status, at least a 400, its message prefixed.
    func denied(_ status: JSON) -> StatusError {
        let deniedBy = "admission webhook \"\(name)\" denied the request"
        let code = max(400, Int(status["code"].int ?? 0))
        let reason = status["reason"].string ?? ""
        let message = status["message"].string.flatMap { $0.isEmpty ? nil : $0 }.map { "\(deniedBy): \($0)" }
            ?? (reason.isEmpty ? "\(deniedBy) without explanation" : "\(deniedBy): \(reason)")
        return StatusError(code: code, reason: reason, message: message, details: status["details"])
    }

    /// The AdmissionReview request for this webhook: kind and resource as it sees the object,
    /// requestKind and requestResource as the client `made` the request.
    static func review(_ request: AdmissionRequest, made: ResourceDefinition, uid: String, version: String) -> JSON {
        func kind(_ def: ResourceDefinition) -> JSON { ["group": .string(def.group), "version": .string(def.version), "kind": .string(def.kind)] }
        func resource(_ def: ResourceDefinition) -> JSON { ["group": .string(def.group), "version": .string(def.version), "resource": .string(def.plural)] }
        let def = request.def
        var body: JSON = ["uid": .string(uid), "kind": kind(def), "resource": resource(def), "requestKind": kind(made), "requestResource": resource(made)]
        if let sub = request.subresource?.rawValue { body["subResource"] = .string(sub); body["requestSubResource"] = .string(sub) }
        let meta = (request.operation == .delete ? request.old : request.object)?["metadata"] ?? .null
        if let name = meta["name"].string, !name.isEmpty { body["name"] = .string(name) }
        if def.namespaced, !request.namespace.isEmpty { body["namespace"] = .string(request.namespace) }
        body["operation"] = .string(request.operation.rawValue)
        body["userInfo"] = request.user.map(\.json) ?? ["username": ""]
        body["object"] = request.operation == .delete ? .null : request.object
        body["oldObject"] = request.operation == .create ? .null : (request.old ?? .null)
        body["dryRun"] = .bool(request.dryRun)
        let optionsKind = ["CREATE": "CreateOptions", "UPDATE": "UpdateOptions", "DELETE": "DeleteOptions"][request.operation.rawValue] ?? ""
        var options: JSON = ["kind": .string(optionsKind), "apiVersion": "meta.k8s.io/v1"]
        if let manager = request.fieldManager { options["fieldManager"] = .string(manager) }
        body["options"] = options
        return ["kind": "AdmissionReview", "apiVersion": .string("admission.k8s.io/\(version)"), "request": body]
    }

    /// The address of the webhook: its URL, or its service's (a ready endpoint of it, as
    /// kube-apiserver's --enable-aggregator-routing resolves one), named `NAME.NAMESPACE.svc`.
    func target(_ registry: Registry, timeoutSeconds: Int64) async throws -> WebhookTarget {
        let config = spec["clientConfig"]
        let caBundle = config["caBundle"].string.flatMap { Data(base64Encoded: $0) }.map { Array($0) }
        let timeout = "timeout=\(timeoutSeconds)s"
        if let url = config["url"].string {
            guard let parsed = URLComponents(string: url), let host = parsed.host else { throw Failure("invalid webhook URL \(url)") }
            let path = (parsed.percentEncodedPath.isEmpty ? "/" : parsed.percentEncodedPath) + "?\(timeout)"
            return WebhookTarget(host: host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")), port: parsed.port ?? 443, path: path,
                                 serverName: host, caBundle: caBundle, url: url + "?\(timeout)")
        }
        let service = config["service"]
        let name = service["name"].string ?? "", namespace = service["namespace"].string ?? ""
        let port = service["port"].int ?? 443
        let path = (service["path"].string.flatMap { $0.isEmpty ? nil : $0 } ?? "/") + "?\(timeout)"
        let url = "https://\(name).\(namespace).svc:\(port)\(path)"
        let (host, targetPort) = try await Self.endpoint(registry, namespace: namespace, service: name, port: port, url: url)
        return WebhookTarget(host: host, port: targetPort, path: path, serverName: "\(name).\(namespace).svc", caBundle: caBundle, url: url)
    }

    static func endpoint(_ registry: Registry, namespace: String, service: String, port: Int64, url: String) async throws -> (String, Int) {
        guard let services = registry.catalog.lookup(group: "", version: "v1", plural: "services"),
              let slices = registry.catalog.lookup(group: "discovery.k8s.io", version: "v1", plural: "endpointslices") else {
            throw Failure("service \"\(service)\" not found")
        }
        let svc: JSON
        do { svc = try await registry.get(services, namespace: namespace, name: service) } catch {
            throw Failure("failed to call webhook: Post \"\(url)\": service \"\(service)\" not found")
        }
        guard let servicePort = (svc["spec"]["ports"].array ?? []).first(where: { $0["port"].int == port }) else {
            throw Failure("failed to call webhook: Post \"\(url)\": service \"\(service)\" has no port \(port)")
        }
        var options = ListOptions()
        options.labelSelector = (try? LabelSelector.parse("kubernetes.io/service-name=\(service)")) ?? .everything
        let list = (try? await registry.list(slices, namespace: namespace, options: options).items.compactMap { try? JSON.parse($0) }) ?? []
        for slice in list {
            let ports = slice["ports"].array ?? []
            guard let slicePort = ports.first(where: { ($0["name"].string ?? "") == (servicePort["name"].string ?? "") })?["port"].int else { continue }
            for endpoint in slice["endpoints"].array ?? [] where endpoint["conditions"]["ready"].bool != false {
                if let address = endpoint["addresses"].array?.first?.string { return (address, Int(slicePort)) }
            }
        }
        throw Failure("failed to call webhook: Post \"\(url)\": no endpoints available for service \"\(service)\"")
    }
}
