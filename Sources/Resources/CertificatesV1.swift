import APIMachinery
import Foundation
import X509

/// certificates.k8s.io/v1 CertificateSigningRequest, with upstream's strategies: the requester is
/// whoever created it, the spec never changes after, status.certificate is written only through
/// /status (by a signer) and the Approved and Denied conditions only through /approval (by
/// `kubectl certificate approve|deny`); every write checked as upstream's validation checks it.
public enum CertificatesV1 {
    public static let resources: [ResourceDefinition] = [certificateSigningRequests]

    static let conditionsWithTrueOnly: Set<String> = ["Approved", "Denied", "Failed"]

    static let certificateSigningRequests: ResourceDefinition = {
        var def = ResourceDefinition(
            group: "certificates.k8s.io", version: "v1", kind: "CertificateSigningRequest", plural: "certificatesigningrequests",
            shortNames: ["csr"], namespaced: false, hasStatus: true, nameRule: .pathSegment,
            strategy: ResourceStrategy(prepareForCreate: { $0["status"] = .emptyObject }, validate: validate, validateUpdate: validateUpdate),
            columns: [.age, .field("SignerName", ["spec", "signerName"]), .field("Requestor", ["spec", "username"]),
                      PrinterColumn("RequestedDuration") { o in
                          .string(o["spec"]["expirationSeconds"].int.map { APITime.humanDuration(Double($0)) } ?? "<none>")
                      },
                      PrinterColumn("Condition") { .string(condition($0)) }],
            schemaName: "io.k8s.api.certificates.v1.CertificateSigningRequest")
        def.strategy.recordRequester = { csr, user in
            for field in ["username", "uid", "groups", "extra"] { csr["spec"][field] = nil }
            guard let user else { return }
            let info = user.json
            for field in ["username", "uid", "groups", "extra"] { csr["spec"][field] = info[field] }
        }
        def.strategy.prepareForUpdate = prepareForUpdate
        def.strategy.validateStatusUpdate = { new, old in validate(new) + validateUpdate(new, old) }
        return def.with([Subresource("approval", GroupVersionKind(group: "certificates.k8s.io", version: "v1", kind: "CertificateSigningRequest"),
                                     ["get", "patch", "update"])])
    }()

    /// kubectl's CONDITION: Denied, else Approved, else Pending; then Failed and Issued.
    static func condition(_ csr: JSON) -> String {
        let types = Set((csr["status"]["conditions"].array ?? []).compactMap { $0["type"].string })
        var shown = types.contains("Denied") ? "Denied" : types.contains("Approved") ? "Approved" : "Pending"
        if types.contains("Failed") { shown += ",Failed" }
        if !(csr["status"]["certificate"].string ?? "").isEmpty { shown += ",Issued" }
        return shown
    }

    /// What a write through each endpoint may change (upstream's three strategies).
    static func prepareForUpdate(_ new: inout JSON, _ old: JSON, _ subresource: String?) {
        new["spec"] = old["spec"]
        switch subresource {
        case "status":
            // Approval is /approval's: the old Approved and Denied conditions stay as they were.
            let approval: Set<String> = ["Approved", "Denied"]
            var conditions = (new["status"]["conditions"].array ?? []).filter { !approval.contains($0["type"].string ?? "") }
            conditions += (old["status"]["conditions"].array ?? []).filter { approval.contains($0["type"].string ?? "") }
            new["status"]["conditions"] = conditions.isEmpty ? .null : .array(conditions)
        case "approval":
            // Only the conditions: the certificate stays the signer's.
            var status = old["status"]
            status["conditions"] = new["status"]["conditions"]
            new["status"] = status
        default:
            new["status"] = old["status"]
        }
        stampConditions(&new, old: old)
    }

    /// Conditions without times get now; a condition unchanged in type and status keeps its
    /// lastTransitionTime.
    static func stampConditions(_ csr: inout JSON, old: JSON) {
        guard var conditions = csr["status"]["conditions"].array else { return }
        let now = JSON.string(APITime.format(Date()))
        let previous = old["status"]["conditions"].array ?? []
        for i in conditions.indices {
            if (conditions[i]["lastUpdateTime"].string ?? "").isEmpty { conditions[i]["lastUpdateTime"] = now }
            if (conditions[i]["lastTransitionTime"].string ?? "").isEmpty {
                let same = previous.first { $0["type"] == conditions[i]["type"] && $0["status"] == conditions[i]["status"] && $0["lastTransitionTime"].string != nil }
                conditions[i]["lastTransitionTime"] = same?["lastTransitionTime"] ?? now
            }
        }
        csr["status"]["conditions"] = .array(conditions)
    }

    static func validate(_ csr: JSON) -> [FieldError] {
        var errors: [FieldError] = []
        let spec = csr["spec"]
        let request = CertificateRequest.bytes(spec["request"].string)
        do throws(CertificateRequest.Failure) {
            _ = try CertificateRequest.parse(request)
        } catch {
            errors.append(.invalid("spec.request", bytes: request, error.description))
        }
        let usages = (spec["usages"].array ?? []).compactMap(\.string)
        if usages.isEmpty { errors.append(.required("spec.usages")) }
        let known = CertificateRequest.Usage.all
        var seen: Set<String> = []
        for (i, usage) in usages.enumerated() {
            if !known.contains(usage) { errors.append(.notSupported("spec.usages[\(i)]", .string(usage), known)) }
            if !seen.insert(usage).inserted { errors.append(.duplicate("spec.usages[\(i)]", .string(usage))) }
        }
        let signer = spec["signerName"].string ?? ""
        if signer == "kubernetes.io/legacy-unknown" {
            errors.append(.invalid("spec.signerName", .string(signer), "the legacy signerName is not allowed via this API version"))
        } else {
            errors += validateSignerName("spec.signerName", signer)
        }
        if let seconds = spec["expirationSeconds"].int, seconds < 600 {
            errors.append(.invalid("spec.expirationSeconds", .int(seconds), "may not specify a duration less than 600 seconds (10 minutes)"))
        }
        errors += validateConditions(csr)
        if let message = certificateProblem(csr["status"]["certificate"].string) {
            errors.append(.invalid("status.certificate", .string("<certificate data>"), message))
        }
        return errors
    }

    static func validateConditions(_ csr: JSON) -> [FieldError] {
        var errors: [FieldError] = []
        var seen: Set<String> = [], approved = false, denied = false
        for (i, c) in (csr["status"]["conditions"].array ?? []).enumerated() {
            let path = "status.conditions[\(i)]"
            let type = c["type"].string ?? "", status = c["status"].string ?? ""
            if type.isEmpty { errors.append(.required("\(path).type")) }
            let allowed = conditionsWithTrueOnly.contains(type) ? ["True"] : ["False", "True", "Unknown"]
            if status.isEmpty { errors.append(.required("\(path).status")) }
            else if !allowed.contains(status) { errors.append(.notSupported("\(path).status", .string(status), allowed)) }
            if type == "Approved" { approved = true; if denied { errors.append(exclusive(path, type)) } }
            if type == "Denied" { denied = true; if approved { errors.append(exclusive(path, type)) } }
            if !seen.insert(type).inserted { errors.append(.duplicate("\(path).type", .string(type))) }
        }
        return errors
    }

    static func exclusive(_ path: String, _ type: String) -> FieldError {
        .invalid("\(path).type", .string(type), "Approved and Denied conditions are mutually exclusive")
    }

    /// What is wrong with status.certificate (base64 of PEM CERTIFICATE blocks), if anything.
    static func certificateProblem(_ field: String?) -> String? {
        let pem = CertificateRequest.bytes(field)
        if pem.isEmpty { return nil }
        let blocks = PEMBlock.blocks(String(decoding: pem, as: UTF8.self))
        for block in blocks {
            if block.type != "CERTIFICATE" { return "only CERTIFICATE PEM blocks are allowed, found \"\(block.type)\"" }
            if block.hasHeaders { return "no PEM block headers are permitted" }
            if (try? Certificate(derEncoded: block.der)) == nil { return "x509: malformed certificate" }
        }
        return blocks.isEmpty ? "must contain at least one CERTIFICATE PEM block" : nil
    }

    static func validateUpdate(_ new: JSON, _ old: JSON) -> [FieldError] {
        var errors: [FieldError] = []
        func count(_ csr: JSON, _ type: String) -> Int { (csr["status"]["conditions"].array ?? []).filter { $0["type"].string == type }.count }
        for type in ["Approved", "Denied", "Failed"] where count(new, type) < count(old, type) {
            errors.append(.forbidden("status.conditions", "updates may not remove a condition of type \"\(type)\""))
        }
        let before = old["status"]["certificate"].string ?? "", after = new["status"]["certificate"].string ?? ""
        if !before.isEmpty, before != after {
            errors.append(.forbidden("status.certificate", "updates may not modify existing certificate content"))
        }
        return errors
    }

    /// upstream's ValidateSignerName: `example.com/signer-name`, a domain of DNS labels with at
    /// least one dot, then a path of DNS subdomains.
    public static func validateSignerName(_ path: String, _ name: String) -> [FieldError] {
        if name.isEmpty { return [.required(path)] }
        let segments = name.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard segments.count == 2 else {
            return [.invalid(path, .string(name), "must be a fully qualified domain and path of the form 'example.com/signer-name'")]
        }
        var errors: [FieldError] = []
        let domain = segments[0], rest = segments[1]
        if domain.count > 253 { errors.append(.tooLong(path, 253)) }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        for label in labels {
            let problems = NameValidation.dns1123Label(label)
            if problems.isEmpty { continue }
            errors += problems.map { .invalid(path, .string(domain), "validating label \"\(label)\": \($0)") }
            break
        }
        if labels.count < 2 { errors.append(.invalid(path, .string(domain), "should be a domain with at least two segments separated by dots")) }
        for component in rest.split(separator: "/", omittingEmptySubsequences: false).map(String.init) {
            let problems = NameValidation.dns1123Subdomain(component)
            if problems.isEmpty { continue }
            errors += problems.map { .invalid(path, .string(rest), "validating component \"\(component)\": \($0)") }
            break
        }
        if name.count > 253 + 253 + 63 + 2 { errors.append(.tooLong(path, 253 + 253 + 63 + 2)) }
        return errors
    }
}
