import APIMachinery
import Resources

/// Upstream's PodSecurity admission: a namespace's `pod-security.kubernetes.io/enforce|audit|warn`
/// labels (levels privileged, baseline, restricted) hold its pods to the Pod Security
/// Standards. enforce refuses a pod that violates its level, in upstream's words
/// (`violates PodSecurity "restricted:latest": privileged (container "c" must not set ...)`);
/// warn answers with a warning (also for workloads, whose pod templates are checked); audit
/// only annotates the audit log, which Cubby does not keep.
public struct PodSecurity: AdmissionPlugin {
    static let labelPrefix = "pod-security.kubernetes.io/"
    /// Resources with a pod template, checked for warnings as upstream does.
    static let templates: [String: [String]] = [
        "deployments": ["spec", "template"], "replicasets": ["spec", "template"], "statefulsets": ["spec", "template"],
        "daemonsets": ["spec", "template"], "jobs": ["spec", "template"], "replicationcontrollers": ["spec", "template"],
        "cronjobs": ["spec", "jobTemplate", "spec", "template"], "podtemplates": ["template"],
    ]

    public init() {}

    public func validate(_ request: AdmissionRequest) async throws(StatusError) {
        guard request.operation != .delete, request.subresource == nil else { return }
        let isPod = request.isResource("pods")
        let template = Self.templates[request.def.plural].flatMap { (request.def.group == "apps" || request.def.group == "batch" || request.def.group.isEmpty) ? $0 : nil }
        guard isPod || template != nil else { return }
        // Only what changes the pod's security is checked again on update.
        if let old = request.old {
            let path = isPod ? ["spec"] : (template ?? []) + ["spec"]
            if old[path: path] == request.object[path: path] { return }
        }
        guard let ns = try? await request.get("namespaces", namespace: nil, name: request.namespace) else { return }
        let labels = ns["metadata"]["labels"].stringMap
        let podSpec = isPod ? request.object["spec"] : request.object[path: (template ?? []) + ["spec"]]
        let podMeta = isPod ? request.object["metadata"] : request.object[path: (template ?? []) + ["metadata"]]
        if isPod, let level = labels[Self.labelPrefix + "enforce"], level != "privileged" {
            let version = labels[Self.labelPrefix + "enforce-version"] ?? "latest"
            let violations = Self.violations(podSpec, podMeta, level: level)
            if !violations.isEmpty {
                throw request.forbidden("violates PodSecurity \"\(level):\(version)\": " + violations.joined(separator: ", "))
            }
        }
        if let level = labels[Self.labelPrefix + "warn"], level != "privileged" {
            let version = labels[Self.labelPrefix + "warn-version"] ?? "latest"
            let violations = Self.violations(podSpec, podMeta, level: level)
            if !violations.isEmpty {
                Warnings.record("would violate PodSecurity \"\(level):\(version)\": " + violations.joined(separator: ", "))
            }
        }
    }

    /// The checks a pod fails at `level`, each `name (detail)`, in upstream's order.
    static func violations(_ spec: JSON, _ meta: JSON, level: String) -> [String] {
        let checks = level == "restricted" ? baseline.filter { !overridden.contains($0.name) } + restricted
            : level == "baseline" ? baseline : []
        return checks.compactMap { check in check.run(Pod(spec: spec, meta: meta)).map { "\(check.name) (\($0))" } }
    }

    /// The containers of a pod with what PSS reads of them.
    struct Pod: Sendable {
        let spec: JSON
        let meta: JSON
        var containers: [JSON] {
            (spec["initContainers"].array ?? []) + (spec["containers"].array ?? []) + (spec["ephemeralContainers"].array ?? [])
        }
        var podSC: JSON { spec["securityContext"] }
    }

    struct Check: Sendable {
        let name: String
        let run: @Sendable (Pod) -> String?
    }

    /// `container "a"` or `containers "a", "b"`, as upstream's messages name them.
    static func containers(_ names: [String]) -> String {
        (names.count == 1 ? "container " : "containers ") + names.map { "\"\($0)\"" }.joined(separator: ", ")
    }

    static func names(_ pod: Pod, where predicate: (JSON) -> Bool) -> [String] {
        pod.containers.filter(predicate).compactMap { $0["name"].string }
    }

    static let baselineCapabilities: Set<String> = ["AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE",
                                                    "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"]
    static let safeSysctls: Set<String> = ["kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
                                           "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
                                           "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
                                           "net.ipv4.tcp_keepalive_probes"]
    static let restrictedVolumeTypes: Set<String> = ["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim",
                                                     "projected", "secret", "image"]

    /// Baseline checks the restricted level replaces with stricter ones of the same concern.
    static let overridden: Set<String> = ["non-default capabilities", "hostPath volumes", "seccompProfile"]

    /// Upstream's order: baseline checks by their ids (capabilities_baseline, hostNamespaces,
    /// hostPathVolumes, hostPorts, privileged, procMount, seLinuxOptions, seccompProfile_baseline,
    /// sysctls), then the restricted ones (allowPrivilegeEscalation, capabilities_restricted,
    /// restrictedVolumes, runAsNonRoot, runAsUser, seccompProfile_restricted).
    static let baseline: [Check] = [
        Check(name: "non-default capabilities") { pod in
            var who: [String] = [], caps: [String] = []
            for c in pod.containers {
                let added = (c["securityContext"]["capabilities"]["add"].array ?? []).compactMap(\.string).filter { !baselineCapabilities.contains($0) }
                if !added.isEmpty { who.append(c["name"].string ?? ""); caps += added.filter { !caps.contains($0) } }
            }
            return who.isEmpty ? nil : "\(containers(who)) must not include \(quoted(caps.sorted())) in securityContext.capabilities.add"
        },
        Check(name: "host namespaces") { pod in
            let set = ["hostNetwork", "hostPID", "hostIPC"].filter { pod.spec[$0].bool == true }
            return set.isEmpty ? nil : set.map { "\($0)=true" }.joined(separator: ", ")
        },
        Check(name: "hostPath volumes") { pod in
            let bad = (pod.spec["volumes"].array ?? []).filter { !$0["hostPath"].isNull }.compactMap { $0["name"].string }
            return bad.isEmpty ? nil : (bad.count == 1 ? "volume " : "volumes ") + quoted(bad)
        },
        Check(name: "hostPort") { pod in
            var who: [String] = [], ports: [String] = []
            for c in pod.containers {
                let own = (c["ports"].array ?? []).compactMap { $0["hostPort"].int }.filter { $0 != 0 }.map(String.init)
                if !own.isEmpty { who.append(c["name"].string ?? ""); ports += own.filter { !ports.contains($0) } }
            }
            guard !who.isEmpty else { return nil }
            return "\(containers(who)) \(who.count == 1 ? "uses" : "use") \(ports.count == 1 ? "hostPort" : "hostPorts") \(ports.sorted().joined(separator: ", "))"
        },
        Check(name: "privileged") { pod in
            let bad = names(pod) { $0["securityContext"]["privileged"].bool == true }
            return bad.isEmpty ? nil : "\(containers(bad)) must not set securityContext.privileged=true"
        },
        Check(name: "procMount") { pod in
            let bad = names(pod) { ($0["securityContext"]["procMount"].string ?? "Default") != "Default" }
            return bad.isEmpty ? nil : "\(containers(bad)) must not set securityContext.procMount to \"Unmasked\""
        },
        Check(name: "seLinuxOptions") { pod in
            let allowed: Set<String> = ["", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"]
            let bad = names(pod) { c in
                let o = c["securityContext"]["seLinuxOptions"]
                return !allowed.contains(o["type"].string ?? "") || !(o["user"].string ?? "").isEmpty || !(o["role"].string ?? "").isEmpty
            }
            return bad.isEmpty ? nil : "\(containers(bad)) set forbidden securityContext.seLinuxOptions"
        },
        Check(name: "seccompProfile") { pod in
            let podSays = pod.podSC["seccompProfile"]["type"] == "Unconfined"
            let bad = names(pod) { $0["securityContext"]["seccompProfile"]["type"] == "Unconfined" }
            if !podSays && bad.isEmpty { return nil }
            let who = podSays && !bad.isEmpty ? "pod and \(containers(bad))" : podSays ? "pod" : containers(bad)
            return "\(who) must not set securityContext.seccompProfile.type to \"Unconfined\""
        },
        Check(name: "forbidden sysctls") { pod in
            let bad = (pod.podSC["sysctls"].array ?? []).compactMap { $0["name"].string }.filter { !safeSysctls.contains($0) }
            return bad.isEmpty ? nil : bad.joined(separator: ", ")
        },
    ]

    static func quoted(_ items: [String]) -> String { items.map { "\"\($0)\"" }.joined(separator: ", ") }

    static let restricted: [Check] = [
        Check(name: "allowPrivilegeEscalation != false") { pod in
            let bad = names(pod) { $0["securityContext"]["allowPrivilegeEscalation"].bool != false }
            return bad.isEmpty ? nil : "\(containers(bad)) must set securityContext.allowPrivilegeEscalation=false"
        },
        Check(name: "unrestricted capabilities") { pod in
            var details: [String] = []
            let notDropping = names(pod) { c in !(c["securityContext"]["capabilities"]["drop"].array ?? []).contains("ALL") }
            if !notDropping.isEmpty { details.append("\(containers(notDropping)) must set securityContext.capabilities.drop=[\"ALL\"]") }
            var who: [String] = [], caps: [String] = []
            for c in pod.containers {
                let added = (c["securityContext"]["capabilities"]["add"].array ?? []).compactMap(\.string).filter { $0 != "NET_BIND_SERVICE" }
                if !added.isEmpty { who.append(c["name"].string ?? ""); caps += added.filter { !caps.contains($0) } }
            }
            if !who.isEmpty { details.append("\(containers(who)) must not include \(quoted(caps.sorted())) in securityContext.capabilities.add") }
            return details.isEmpty ? nil : details.joined(separator: "; ")
        },
        Check(name: "restricted volume types") { pod in
            var who: [String] = [], types: [String] = []
            for v in pod.spec["volumes"].array ?? [] {
                let type = (v.object ?? [:]).keys.first { $0 != "name" } ?? ""
                if !restrictedVolumeTypes.contains(type) { who.append(v["name"].string ?? ""); if !types.contains(type) { types.append(type) } }
            }
            guard !who.isEmpty else { return nil }
            return "\(who.count == 1 ? "volume" : "volumes") \(quoted(who)) \(who.count == 1 ? "uses" : "use") restricted volume \(types.count == 1 ? "type" : "types") \(quoted(types.sorted()))"
        },
        Check(name: "runAsNonRoot != true") { pod in
            let podSays = pod.podSC["runAsNonRoot"].bool
            let setFalse = names(pod) { $0["securityContext"]["runAsNonRoot"].bool == false }
            if podSays == false || !setFalse.isEmpty {
                let who = podSays == false && !setFalse.isEmpty ? "pod and \(containers(setFalse))" : podSays == false ? "pod" : containers(setFalse)
                return "\(who) must not set securityContext.runAsNonRoot=false"
            }
            guard podSays != true else { return nil }
            let unset = names(pod) { $0["securityContext"]["runAsNonRoot"].isNull }
            return unset.isEmpty ? nil : "pod or \(containers(unset)) must set securityContext.runAsNonRoot=true"
        },
        Check(name: "runAsUser=0") { pod in
            let podSays = pod.podSC["runAsUser"].int == 0
            let bad = names(pod) { $0["securityContext"]["runAsUser"].int == 0 }
            if !podSays && bad.isEmpty { return nil }
            let who = podSays && !bad.isEmpty ? "pod and \(containers(bad))" : podSays ? "pod" : containers(bad)
            return "\(who) must not set runAsUser=0"
        },
        Check(name: "seccompProfile") { pod in
            let allowed = ["RuntimeDefault", "Localhost"]
            let podType = pod.podSC["seccompProfile"]["type"].string
            let podSaysUnconfined = podType.map { !allowed.contains($0) } ?? false
            let badSet = names(pod) { c in c["securityContext"]["seccompProfile"]["type"].string.map { !allowed.contains($0) } ?? false }
            if podSaysUnconfined || !badSet.isEmpty {
                let who = podSaysUnconfined && !badSet.isEmpty ? "pod and \(containers(badSet))" : podSaysUnconfined ? "pod" : containers(badSet)
                return "\(who) must not set securityContext.seccompProfile.type to \"Unconfined\""
            }
            guard podType == nil else { return nil }
            let unset = names(pod) { $0["securityContext"]["seccompProfile"]["type"].isNull }
            return unset.isEmpty ? nil : "pod or \(containers(unset)) must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\""
        },
    ]
}
