import APIMachinery

/// A pod spec as upstream's validation checks it (ValidatePodSpec and ValidatePodUpdate), in its
/// words: used for pods and for the pod templates of workloads, whose restart policy is narrower.
public enum PodValidation {
    /// The restart policies a template's pods may have: nil for a pod itself (any of the three).
    public static func spec(_ spec: JSON, _ path: String, restartPolicies: [String]? = nil) -> [FieldError] {
        guard let containers = spec["containers"].array, !containers.isEmpty else { return [.required("\(path).containers")] }
        var errors: [FieldError] = []
        let volumes = Set((spec["volumes"].array ?? []).compactMap { $0["name"].string })
        var volumeNames = Set<String>()
        for (i, v) in (spec["volumes"].array ?? []).enumerated() {
            let name = v["name"].string ?? ""
            if name.isEmpty { errors.append(.required("\(path).volumes[\(i)].name")) }
            else if !volumeNames.insert(name).inserted { errors.append(.duplicate("\(path).volumes[\(i)].name", .string(name))) }
        }
        var names = Set<String>()
        // Init containers are checked against the containers too, as upstream does.
        for c in containers { if let n = c["name"].string { names.insert(n) } }
        var seen = Set<String>()
        for (i, c) in containers.enumerated() {
            errors += container(c, "\(path).containers[\(i)]", volumes: volumes)
            if let n = c["name"].string, !n.isEmpty, !seen.insert(n).inserted { errors.append(.duplicate("\(path).containers[\(i)].name", .string(n))) }
        }
        for (i, c) in (spec["initContainers"].array ?? []).enumerated() {
            errors += container(c, "\(path).initContainers[\(i)]", volumes: volumes)
            if let n = c["name"].string, !n.isEmpty, !seen.insert(n).inserted { errors.append(.duplicate("\(path).initContainers[\(i)].name", .string(n))) }
        }
        let policies = restartPolicies ?? ["Always", "OnFailure", "Never"]
        if let policy = spec["restartPolicy"].string {
            if policy.isEmpty { errors.append(.required("\(path).restartPolicy")) }
            else if !policies.contains(policy) { errors.append(.notSupported("\(path).restartPolicy", .string(policy), policies)) }
        }
        if let dns = spec["dnsPolicy"].string, !["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"].contains(dns) {
            errors.append(.notSupported("\(path).dnsPolicy", .string(dns), ["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"]))
        }
        if let seconds = spec["terminationGracePeriodSeconds"].int, seconds < 0 {
            errors.append(.invalid("\(path).terminationGracePeriodSeconds", .int(seconds), "must be greater than or equal to 0"))
        }
        if let seconds = spec["activeDeadlineSeconds"].int, seconds <= 0 {
            errors.append(.invalid("\(path).activeDeadlineSeconds", .int(seconds), "must be between 1 and 2147483647, inclusive"))
        }
        return errors
    }

    static func container(_ c: JSON, _ path: String, volumes: Set<String>) -> [FieldError] {
        var errors: [FieldError] = []
        let name = c["name"].string ?? ""
        if name.isEmpty { errors.append(.required("\(path).name")) }
        else { for m in NameValidation.dns1123Label(name) { errors.append(.invalid("\(path).name", .string(name), m)) } }
        if (c["image"].string ?? "").isEmpty { errors.append(.required("\(path).image")) }
        if let policy = c["imagePullPolicy"].string, !["Always", "IfNotPresent", "Never"].contains(policy) {
            errors.append(.notSupported("\(path).imagePullPolicy", .string(policy), ["Always", "IfNotPresent", "Never"]))
        }
        if let policy = c["terminationMessagePolicy"].string, !["File", "FallbackToLogsOnError"].contains(policy) {
            errors.append(.notSupported("\(path).terminationMessagePolicy", .string(policy), ["FallbackToLogsOnError", "File"]))
        }
        var portNames = Set<String>()
        for (i, p) in (c["ports"].array ?? []).enumerated() {
            let portPath = "\(path).ports[\(i)]"
            if let n = p["name"].string, !n.isEmpty, !portNames.insert(n).inserted { errors.append(.duplicate("\(portPath).name", .string(n))) }
            let port = p["containerPort"].int ?? 0
            if port == 0 { errors.append(.required("\(portPath).containerPort")) }
            else { errors += PortValidation.number("\(portPath).containerPort", port) }
            if let host = p["hostPort"].int, host != 0 { errors += PortValidation.number("\(portPath).hostPort", host) }
            errors += PortValidation.protocol("\(portPath).protocol", p["protocol"])
        }
        errors += resources(c["resources"], "\(path).resources")
        for (i, m) in (c["volumeMounts"].array ?? []).enumerated() {
            let volume = m["name"].string ?? ""
            if volume.isEmpty { errors.append(.required("\(path).volumeMounts[\(i)].name")) }
            else if !volumes.contains(volume) { errors.append(.init(.notFound, "\(path).volumeMounts[\(i)].name", .string(volume))) }
            if (m["mountPath"].string ?? "").isEmpty { errors.append(.required("\(path).volumeMounts[\(i)].mountPath")) }
        }
        return errors
    }

    /// Quantities not below zero, requests not above limits, in upstream's words.
    public static func resources(_ r: JSON, _ path: String) -> [FieldError] {
        var errors: [FieldError] = []
        for kind in ["limits", "requests"] {
            for (name, q) in (r[kind].object ?? [:]).sorted(by: { $0.key < $1.key }) where Quantity.value(q) < 0 {
                errors.append(.invalid("\(path).\(kind)[\(name)]", .string(q.string ?? q.jsonString), "must be greater than or equal to 0"))
            }
        }
        for (name, request) in (r["requests"].object ?? [:]).sorted(by: { $0.key < $1.key }) {
            let limit = r["limits"][name]
            guard !limit.isNull else { continue }
            if Quantity.value(request) > Quantity.value(limit) {
                errors.append(.invalid("\(path).requests", .string(text(request)), "must be less than or equal to \(name) limit of \(text(limit))"))
            }
        }
        return errors
    }

    static func text(_ q: JSON) -> String { q.string ?? q.int.map(String.init) ?? q.jsonString }

    static let updatableFields = "`spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,"
        + "`spec.tolerations` (only additions to existing tolerations),"
        + "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"

    /// Upstream's ValidatePodUpdate: a pod's spec keeps everything but its containers' images, a
    /// shorter deadline, added tolerations and dropped scheduling gates.
    public static func update(_ new: JSON, _ old: JSON) -> [FieldError] {
        let spec = new["spec"], oldSpec = old["spec"]
        for list in ["containers", "initContainers"] where (spec[list].array ?? []).count != (oldSpec[list].array ?? []).count {
            return [.forbidden("spec.\(list)", "pod updates may not add or remove containers")]
        }
        var errors: [FieldError] = []
        if let before = oldSpec["activeDeadlineSeconds"].int {
            if let after = spec["activeDeadlineSeconds"].int, after > before {
                errors.append(.invalid("spec.activeDeadlineSeconds", .int(after), "must be less than or equal to previous value"))
            } else if spec["activeDeadlineSeconds"].isNull {
                errors.append(.invalid("spec.activeDeadlineSeconds", .null, "must not update from a positive integer to nil value"))
            }
        }
        let oldTolerations = oldSpec["tolerations"].array ?? []
        let newTolerations = spec["tolerations"].array ?? []
        for t in oldTolerations {
            var same = t
            same["tolerationSeconds"] = nil
            if !newTolerations.contains(where: { var n = $0; n["tolerationSeconds"] = nil; return n == same }) {
                errors.append(.forbidden("spec.tolerations", "existing toleration can not be modified except its tolerationSeconds"))
                break
            }
        }
        // What may change is made as it was; anything else that differs is refused.
        var munged = spec
        for list in ["containers", "initContainers"] {
            guard var cs = munged[list].array else { continue }
            let olds = oldSpec[list].array ?? []
            for i in cs.indices where i < olds.count { cs[i]["image"] = olds[i]["image"] }
            munged[list] = .array(cs)
        }
        for field in ["activeDeadlineSeconds", "tolerations", "schedulingGates", "terminationGracePeriodSeconds"] where
            field != "terminationGracePeriodSeconds" || (oldSpec[field].int ?? 0) < 0 {
            munged[field] = oldSpec[field]
        }
        if munged != oldSpec {
            errors.append(.forbidden("spec", "pod updates may not change fields other than \(updatableFields)\n\(SpecDiff.render(oldSpec, munged, type: "core.PodSpec"))"))
        }
        return errors
    }
}

extension PodValidation {
    /// Upstream's ValidatePodCreate: ephemeral containers come only through their subresource.
    public static func create(_ pod: JSON) -> [FieldError] {
        (pod["spec"]["ephemeralContainers"].array ?? []).isEmpty ? [] : [.forbidden("spec.ephemeralContainers", "cannot be set on create")]
    }

    /// What an ephemeral container may not have: it runs once, for a person, without a place in
    /// the pod's networking or resources (upstream's list).
    static let ephemeralForbidden = ["lifecycle", "livenessProbe", "ports", "readinessProbe", "resizePolicy", "resources",
                                     "restartPolicy", "startupProbe"]

    /// Upstream's ValidatePodEphemeralContainersUpdate: each ephemeral container valid, its name
    /// unique in the pod, its target one of the pod's containers; those already there unchanged.
    public static func ephemeralContainersUpdate(_ new: JSON, _ old: JSON) -> [FieldError] {
        let spec = new["spec"]
        let volumes = Set((spec["volumes"].array ?? []).compactMap { $0["name"].string })
        let targets = Set(((spec["containers"].array ?? []) + (spec["initContainers"].array ?? [])).compactMap { $0["name"].string })
        var names = targets
        var errors: [FieldError] = []
        let ephemeral = spec["ephemeralContainers"].array ?? []
        for (i, c) in ephemeral.enumerated() {
            let path = "spec.ephemeralContainers[\(i)]"
            var common = c
            common["targetContainerName"] = nil
            for field in ephemeralForbidden where !(c[field].isNull || (field == "resources" && c[field] == .emptyObject)) {
                errors.append(.forbidden("\(path).\(field)", "cannot be set for an Ephemeral Container"))
                common[field] = nil
            }
            errors += container(common, path, volumes: volumes)
            if let name = c["name"].string, !name.isEmpty, !names.insert(name).inserted { errors.append(.duplicate("\(path).name", .string(name))) }
            if let target = c["targetContainerName"].string, !target.isEmpty, !targets.contains(target) {
                errors.append(FieldError(.notFound, "\(path).targetContainerName", .string(target)))
            }
        }
        let current = Dictionary((ephemeral).map { ($0["name"].string ?? "", $0) }, uniquingKeysWith: { a, _ in a })
        for previous in old["spec"]["ephemeralContainers"].array ?? [] {
            let name = previous["name"].string ?? ""
            if let now = current[name] {
                if now != previous { errors.append(.forbidden("spec.ephemeralContainers", "existing ephemeral containers \"\(name)\" may not be changed")) }
            } else {
                errors.append(.forbidden("spec.ephemeralContainers", "existing ephemeral containers \"\(name)\" may not be removed"))
            }
        }
        return errors
    }
}

/// A short go-cmp style diff of two specs (upstream appends cmp.Diff's output to its "may not
/// change" messages): the changed top-level fields, old with `-`, new with `+`.
public enum SpecDiff {
    public static func render(_ old: JSON, _ new: JSON, type: String) -> String {
        var lines = ["  \(type){"]
        let keys = Set((old.object ?? [:]).keys).union((new.object ?? [:]).keys).sorted()
        var same = 0
        for key in keys {
            let a = old[key], b = new[key]
            if a == b { same += 1; continue }
            let field = key.prefix(1).uppercased() + key.dropFirst()
            if !a.isNull { lines.append("- \t\(field): \(a.jsonString),") }
            if !b.isNull { lines.append("+ \t\(field): \(b.jsonString),") }
        }
        if same > 0 { lines.append("  \t... // \(same) identical fields") }
        lines.append("  }")
        return lines.joined(separator: "\n") + "\n"
    }
}
