import APIMachinery
import Foundation

// Fallback declarations of every built-in resource, used until the full per-group declarations land.
public enum ScratchResources {
    static func age() -> PrinterColumn { .age }
    static func count(_ name: String, _ path: [String]) -> PrinterColumn {
        PrinterColumn(name, type: "integer") { o in .int(Int64(o[path: path].object?.count ?? o[path: path].array?.count ?? 0)) }
    }
    static func int(_ name: String, _ path: [String], priority: Int = 0) -> PrinterColumn {
        PrinterColumn(name, type: "integer", priority: priority) { o in .int(o[path: path].int ?? 0) }
    }
    static func ratio(_ name: String, _ ready: [String], _ want: [String]) -> PrinterColumn {
        PrinterColumn(name) { o in .string("\(o[path: ready].int ?? 0)/\(o[path: want].int ?? 0)") }
    }
    static func selector(_ o: JSON, _ path: [String]) -> String {
        let s = o[path: path]
        if s.isNull { return "<none>" }
        if s["matchLabels"].isNull && s["matchExpressions"].isNull, case .object(let m) = s, !m.isEmpty {
            return m.keys.sorted().map { "\($0)=\(m[$0]!.string ?? "")" }.joined(separator: ",")
        }
        let d = (try? LabelSelector.fromStructured(s))?.description ?? ""
        return d.isEmpty ? "<none>" : d
    }
    static func workloadWide(_ specPath: [String], _ selectorPath: [String]) -> [PrinterColumn] {
        [PrinterColumn("Containers", priority: 1) { o in .string((o[path: specPath + ["containers"]].array ?? []).compactMap { $0["name"].string }.joined(separator: ",")) },
         PrinterColumn("Images", priority: 1) { o in .string((o[path: specPath + ["containers"]].array ?? []).compactMap { $0["image"].string }.joined(separator: ",")) },
         PrinterColumn("Selector", priority: 1) { o in .string(selector(o, selectorPath)) }]
    }

    /// A binding's subjects with -o wide: users, groups, and service accounts as NAMESPACE/NAME.
    static let subjectsWide: [PrinterColumn] = [("Users", "User"), ("Groups", "Group"), ("ServiceAccounts", "ServiceAccount")].map { title, kind in
        PrinterColumn(title, priority: 1) { o in
            .string((o["subjects"].array ?? []).filter { $0["kind"].string == kind }.map { s in
                kind == "ServiceAccount" ? "\(s["namespace"].string ?? "")/\(s["name"].string ?? "")" : (s["name"].string ?? "")
            }.joined(separator: ", "))
        }
    }

    /// Upstream's NetworkPolicy defaults: policyTypes from the rules given (Ingress always,
    /// Egress when there are egress rules), and TCP for ports that name no protocol.
    @Sendable static func networkPolicyDefaults(_ o: inout JSON) {
        if o["spec"]["policyTypes"].isNull {
            o["spec"]["policyTypes"] = o["spec"]["egress"].isNull ? ["Ingress"] : ["Ingress", "Egress"]
        }
        for direction in ["ingress", "egress"] {
            guard var rules = o["spec"][direction].array else { continue }
            for r in rules.indices {
                guard var ports = rules[r]["ports"].array else { continue }
                for p in ports.indices where ports[p]["protocol"].isNull { ports[p]["protocol"] = "TCP" }
                rules[r]["ports"] = .array(ports)
            }
            o["spec"][direction] = .array(rules)
        }
    }

    /// kubectl's quota columns: `pods: 1/2, requests.cpu: 0/1` (Request) and the limits.* ones (Limit).
    static func quotaUsage(_ o: JSON, limits: Bool) -> String {
        let hard = o["status"]["hard"].object ?? o["spec"]["hard"].object ?? [:]
        return hard.keys.filter { $0.hasPrefix("limits.") == limits }.sorted().map { r in
            "\(r): \(o["status"]["used"][r].string ?? "0")/\(hard[r]?.string ?? hard[r].map { $0.jsonString } ?? "")"
        }.joined(separator: ", ")
    }

    /// Upstream's defaults of a Container limit item: the default limit is the max, the default
    /// request the default limit, else the min.
    @Sendable static func limitRangeDefaults(_ o: inout JSON) {
        guard var items = o["spec"]["limits"].array else { return }
        for i in items.indices where items[i]["type"] == "Container" {
            var limit = items[i]["default"].object ?? [:], request = items[i]["defaultRequest"].object ?? [:]
            for (r, q) in items[i]["max"].object ?? [:] where limit[r] == nil { limit[r] = q }
            for (r, q) in limit where request[r] == nil { request[r] = q }
            for (r, q) in items[i]["min"].object ?? [:] where request[r] == nil { request[r] = q }
            if !limit.isEmpty { items[i]["default"] = .object(limit) }
            if !request.isEmpty { items[i]["defaultRequest"] = .object(request) }
        }
        o["spec"]["limits"] = .array(items)
    }

    static let podStatus = PrinterColumn("Status") { o in
        if o["metadata"]["deletionTimestamp"].string != nil { return "Terminating" }
        var reason = o["status"]["reason"].string ?? o["status"]["phase"].string ?? "Pending"
        for c in o["status"]["containerStatuses"].array ?? [] {
            if let r = c["state"]["waiting"]["reason"].string { reason = r }
            else if let r = c["state"]["terminated"]["reason"].string { reason = r }
        }
        return .string(reason)
    }

    static func podDefaults(_ spec: inout JSON) {
        if spec.isNull { return }
        func set(_ k: String, _ v: JSON) { if spec[k].isNull { spec[k] = v } }
        set("restartPolicy", "Always"); set("dnsPolicy", "ClusterFirst"); set("schedulerName", "default-scheduler")
        set("terminationGracePeriodSeconds", 30); set("securityContext", .emptyObject); set("enableServiceLinks", true)
        for list in ["containers", "initContainers"] {
            guard var cs = spec[list].array else { continue }
            for i in cs.indices {
                if cs[i]["terminationMessagePath"].isNull { cs[i]["terminationMessagePath"] = "/dev/termination-log" }
                if cs[i]["terminationMessagePolicy"].isNull { cs[i]["terminationMessagePolicy"] = "File" }
                if cs[i]["resources"].isNull { cs[i]["resources"] = .emptyObject }
                // A limit without a request asks for the limit, as upstream's defaulting says.
                for (resource, limit) in cs[i]["resources"]["limits"].object ?? [:] where cs[i]["resources"]["requests"][resource].isNull {
                    cs[i]["resources"]["requests"][resource] = limit
                }
                if cs[i]["imagePullPolicy"].isNull {
                    let image = cs[i]["image"].string ?? ""
                    let tag = image.split(separator: "/").last.flatMap { $0.contains(":") ? $0.split(separator: ":").last : nil }
                    cs[i]["imagePullPolicy"] = (tag == nil || tag == "latest") && !image.contains("@") ? "Always" : "IfNotPresent"
                }
                if var ports = cs[i]["ports"].array {
                    for p in ports.indices where ports[p]["protocol"].isNull { ports[p]["protocol"] = "TCP" }
                    cs[i]["ports"] = .array(ports)
                }
            }
            spec[list] = .array(cs)
        }
    }

    static func workload(_ kind: String, _ plural: String, _ short: [String], scale: Bool = true, extra: [PrinterColumn],
                         fields: [String: @Sendable (JSON) -> String?] = [:],
                         validateUpdate: @escaping @Sendable (JSON, JSON) -> [FieldError] = { _, _ in [] },
                         initialStatus: JSON = .emptyObject,
                         defaults: @escaping @Sendable (inout JSON) -> Void = { _ in }) -> ResourceDefinition {
        ResourceDefinition(group: "apps", version: "v1", kind: kind, plural: plural, shortNames: short, categories: ["all"], hasStatus: true,
            scale: scale ? ScaleSubresource(labelSelectorPath: ["spec", "selector"]) : nil, tracksGeneration: true,
            strategy: .init(defaults: { o in
                defaults(&o)
                // A ReplicaSet keeps no history of its own: upstream's type has no such field.
                if kind != "ReplicaSet", o["spec"]["revisionHistoryLimit"].isNull { o["spec"]["revisionHistoryLimit"] = 10 }
                var s = o["spec"]["template"]["spec"]; podDefaults(&s); if !s.isNull { o["spec"]["template"]["spec"] = s }
            }, prepareForCreate: { o in o["status"] = initialStatus },
            validate: { o in
                var e: [FieldError] = []
                if o["spec"]["selector"].isNull { e.append(.required("spec.selector")) }
                else if let sel = try? LabelSelector.fromStructured(o["spec"]["selector"]),
                        !sel.matches(o["spec"]["template"]["metadata"]["labels"].stringMap) {
                    e.append(.invalid("spec.template.metadata.labels", .object(o["spec"]["template"]["metadata"]["labels"].object ?? [:]), "`selector` does not match template `labels`"))
                }
                if let r = o["spec"]["replicas"].int, r < 0 { e.append(.invalid("spec.replicas", .int(r), "must be greater than or equal to 0")) }
                return e + PodValidation.spec(o["spec"]["template"]["spec"], "spec.template.spec", restartPolicies: ["Always"])
            }, validateUpdate: { n, o in
                (n["spec"]["selector"] != o["spec"]["selector"] ? [.invalid("spec.selector", n["spec"]["selector"], "field is immutable")] : [])
                    + validateUpdate(n, o)
            }),
            columns: extra + [.age] + workloadWide(["spec", "template", "spec"], ["spec", "selector"]), fieldSelectors: fields,
            schemaName: "io.k8s.api.apps.v1.\(kind)")
    }

    static func simple(_ group: String, _ kind: String, _ plural: String, _ short: [String] = [], namespaced: Bool = true,
                       hasStatus: Bool = false, columns: [PrinterColumn] = [.age], nameRule: NameRule = .dns1123Subdomain,
                       fields: [String: @Sendable (JSON) -> String?] = [:], strategy: ResourceStrategy = .init()) -> ResourceDefinition {
        let version = "v1"
        let pkg = group.isEmpty ? "core" : group.split(separator: ".").first.map(String.init)!
        return ResourceDefinition(group: group, version: version, kind: kind, plural: plural, shortNames: short, namespaced: namespaced,
            hasStatus: hasStatus, nameRule: nameRule, strategy: strategy, columns: columns, fieldSelectors: fields,
            schemaName: "io.k8s.api.\(pkg).\(version).\(kind)")
    }

    public static let all: [ResourceDefinition] = [
        simple("", "Namespace", "namespaces", ["ns"], namespaced: false, hasStatus: true, columns: [.field("Status", ["status", "phase"]), .age], nameRule: .dns1123Label,
            fields: ["status.phase": { $0["status"]["phase"].string }],
            strategy: .init(defaults: { o in
                // Upstream labels every namespace with its own name, so selectors can pick namespaces.
                if let name = o["metadata"]["name"].string { o["metadata"]["labels"]["kubernetes.io/metadata.name"] = .string(name) }
            }, prepareForCreate: { o in o["status"] = ["phase": "Active"]; if o["spec"]["finalizers"].isNull { o["spec"]["finalizers"] = ["kubernetes"] } })),
        ResourceDefinition(group: "", version: "v1", kind: "Pod", plural: "pods", shortNames: ["po"], categories: ["all"], hasStatus: true, tracksGeneration: true,
            strategy: .init(defaults: { o in var s = o["spec"]; podDefaults(&s); if !s.isNull { o["spec"] = s } },
                            prepareForCreate: { o in o["status"] = ["phase": "Pending", "qosClass": .string(PodQOS.qosClass(o["spec"]))] },
                            validate: { o in PodValidation.spec(o["spec"], "spec") }, validateUpdate: PodValidation.update,
                            validateCreate: PodValidation.create),
            columns: [
                PrinterColumn("Ready") { o in
                    let cs = o["status"]["containerStatuses"].array ?? []
                    return .string("\(cs.filter { $0["ready"].bool == true }.count)/\(o["spec"]["containers"].array?.count ?? 0)")
                },
                podStatus,
                PrinterColumn("Restarts", type: "string") { o in
                    // As kubectl: the count, and how long ago the last restarted container stopped.
                    let statuses = o["status"]["containerStatuses"].array ?? []
                    let restarts = statuses.reduce(0) { $0 + ($1["restartCount"].int ?? 0) }
                    let last = statuses.compactMap { $0["lastState"]["terminated"]["finishedAt"].string.flatMap(APITime.parse) }.max()
                    guard restarts > 0, let last else { return .string(String(restarts)) }
                    return .string("\(restarts) (\(APITime.humanDuration(Date().timeIntervalSince(last))) ago)")
                },
                .age,
                .field("IP", ["status", "podIP"], priority: 1), .field("Node", ["spec", "nodeName"], priority: 1),
                .field("Nominated Node", ["status", "nominatedNodeName"], priority: 1),
                PrinterColumn("Readiness Gates", priority: 1) { o in .string((o["spec"]["readinessGates"].array ?? []).isEmpty ? "<none>" : "\(o["spec"]["readinessGates"].array!.count)") },
            ],
            fieldSelectors: ["spec.nodeName": { $0["spec"]["nodeName"].string ?? "" }, "status.phase": { $0["status"]["phase"].string ?? "" },
                             "spec.restartPolicy": { $0["spec"]["restartPolicy"].string }, "spec.schedulerName": { $0["spec"]["schedulerName"].string },
                             "spec.serviceAccountName": { $0["spec"]["serviceAccountName"].string }, "status.podIP": { $0["status"]["podIP"].string }],
            schemaName: "io.k8s.api.core.v1.Pod").returningDeletedObject(),
        ResourceDefinition(group: "", version: "v1", kind: "Service", plural: "services", shortNames: ["svc"], categories: ["all"], hasStatus: true, nameRule: .dns1035Label,
            strategy: .init(defaults: { o in
                if o["spec"]["type"].isNull { o["spec"]["type"] = "ClusterIP" }
                if o["spec"]["sessionAffinity"].isNull { o["spec"]["sessionAffinity"] = "None" }
                let type = o["spec"]["type"].string
                if type == "ExternalName" {
                    // An ExternalName service has no cluster IP and so no IP families.
                    for k in ["ipFamilies", "ipFamilyPolicy", "internalTrafficPolicy"] { o["spec"][k] = nil }
                } else {
                    if o["spec"]["ipFamilies"].isNull { o["spec"]["ipFamilies"] = ["IPv4"] }
                    if o["spec"]["ipFamilyPolicy"].isNull { o["spec"]["ipFamilyPolicy"] = "SingleStack" }
                    if o["spec"]["internalTrafficPolicy"].isNull { o["spec"]["internalTrafficPolicy"] = "Cluster" }
                }
                if type == "NodePort" || type == "LoadBalancer", o["spec"]["externalTrafficPolicy"].isNull { o["spec"]["externalTrafficPolicy"] = "Cluster" }
                if type == "LoadBalancer", o["spec"]["allocateLoadBalancerNodePorts"].isNull { o["spec"]["allocateLoadBalancerNodePorts"] = true }
                if var ports = o["spec"]["ports"].array {
                    for i in ports.indices {
                        if ports[i]["protocol"].isNull { ports[i]["protocol"] = "TCP" }
                        if ports[i]["targetPort"].isNull { ports[i]["targetPort"] = ports[i]["port"] }
                    }
                    o["spec"]["ports"] = .array(ports)
                }
            }, prepareForCreate: { o in o["status"] = ["loadBalancer": .emptyObject] },
            validate: ServiceValidation.service, validateUpdate: ServiceValidation.serviceUpdate),
            columns: [.field("Type", ["spec", "type"]), .field("Cluster-IP", ["spec", "clusterIP"]),
                      PrinterColumn("External-IP") { o in .string((o["status"]["loadBalancer"]["ingress"].array ?? []).compactMap { $0["ip"].string }.joined(separator: ",").isEmpty ? ((o["spec"]["externalIPs"].array ?? []).isEmpty ? (o["spec"]["type"].string == "LoadBalancer" ? "<pending>" : "<none>") : (o["spec"]["externalIPs"].array ?? []).compactMap(\.string).joined(separator: ",")) : (o["status"]["loadBalancer"]["ingress"].array ?? []).compactMap { $0["ip"].string }.joined(separator: ",")) },
                      PrinterColumn("Port(s)") { o in
                          let ps = (o["spec"]["ports"].array ?? []).map { p in "\(p["port"].int ?? 0)\(p["nodePort"].int.map { ":\($0)" } ?? "")/\(p["protocol"].string ?? "TCP")" }
                          return .string(ps.isEmpty ? "<none>" : ps.joined(separator: ","))
                      }, .age,
                      PrinterColumn("Selector", priority: 1) { o in .string(selector(o, ["spec", "selector"])) }],
            fieldSelectors: ["spec.clusterIP": { $0["spec"]["clusterIP"].string }, "spec.type": { $0["spec"]["type"].string }],
            schemaName: "io.k8s.api.core.v1.Service").returningDeletedObject(),
        simple("", "Endpoints", "endpoints", ["ep"], columns: [PrinterColumn("Endpoints") { o in
            let eps = (o["subsets"].array ?? []).flatMap { s in (s["addresses"].array ?? []).flatMap { a in (s["ports"].array ?? [["port": 0]]).map { "\(a["ip"].string ?? ""):\($0["port"].int ?? 0)" } } }
            return .string(eps.isEmpty ? "<none>" : eps.prefix(3).joined(separator: ",") + (eps.count > 3 ? " + \(eps.count - 3) more..." : ""))
        }, .age]).deprecated("v1 Endpoints is deprecated in v1.33+; use discovery.k8s.io/v1 EndpointSlice"),
        simple("", "ConfigMap", "configmaps", ["cm"], columns: [PrinterColumn("Data", type: "integer") { .int(Int64(($0["data"].object?.count ?? 0) + ($0["binaryData"].object?.count ?? 0))) }, .age],
               strategy: .init(validate: ConfigValidation.configMap, validateUpdate: ConfigValidation.configMapUpdate)),
        simple("", "Secret", "secrets", columns: [.field("Type", ["type"]), count("Data", ["data"]), .age],
               fields: ["type": { $0["type"].string }], strategy: .init(defaults: ConfigValidation.secretDefaults,
                                                                        validate: ConfigValidation.secret, validateUpdate: ConfigValidation.secretUpdate)),
        simple("", "ServiceAccount", "serviceaccounts", ["sa"], columns: [count("Secrets", ["secrets"]), .age]).returningDeletedObject(),
        Events.coreV1,
        simple("", "Node", "nodes", ["no"], namespaced: false, hasStatus: true, columns: [
            PrinterColumn("Status") { o in
                var status = (o["status"]["conditions"].array ?? []).first { $0["type"] == "Ready" }.map { $0["status"] == "True" ? "Ready" : "NotReady" } ?? "Unknown"
                if o["spec"]["unschedulable"].bool == true { status += ",SchedulingDisabled" }
                return .string(status)
            },
            PrinterColumn("Roles") { o in
                // node-role.kubernetes.io/ROLE labels, as upstream's printer reads them.
                let roles = o["metadata"]["labels"].stringMap.keys.compactMap { k in
                    k.hasPrefix("node-role.kubernetes.io/") ? String(k.dropFirst("node-role.kubernetes.io/".count)) : nil
                }.filter { !$0.isEmpty }.sorted()
                return .string(roles.isEmpty ? "<none>" : roles.joined(separator: ","))
            },
            .age, .field("Version", ["status", "nodeInfo", "kubeletVersion"], none: ""),
            PrinterColumn("Internal-IP", priority: 1) { o in
                .string((o["status"]["addresses"].array ?? []).first { $0["type"] == "InternalIP" }?["address"].string ?? "<none>")
            },
            PrinterColumn("External-IP", priority: 1) { o in
                .string((o["status"]["addresses"].array ?? []).first { $0["type"] == "ExternalIP" }?["address"].string ?? "<none>")
            },
            .field("OS-Image", ["status", "nodeInfo", "osImage"], priority: 1, none: "<unknown>"),
            .field("Kernel-Version", ["status", "nodeInfo", "kernelVersion"], priority: 1, none: "<unknown>"),
            .field("Container-Runtime", ["status", "nodeInfo", "containerRuntimeVersion"], priority: 1, none: "<unknown>")],
            fields: ["spec.unschedulable": { String($0["spec"]["unschedulable"].bool ?? false) }]),
        simple("", "PersistentVolume", "persistentvolumes", ["pv"], namespaced: false, hasStatus: true, columns: [
            .field("Capacity", ["spec", "capacity", "storage"], none: ""), .accessModes(["spec", "accessModes"]),
            .field("Reclaim Policy", ["spec", "persistentVolumeReclaimPolicy"], none: ""),
            PrinterColumn("Status") { o in o["metadata"]["deletionTimestamp"].isNull ? .string(o["status"]["phase"].string ?? "") : "Terminating" },
            PrinterColumn("Claim") { o in
                guard let ns = o["spec"]["claimRef"]["namespace"].string, let n = o["spec"]["claimRef"]["name"].string else { return "" }
                return .string("\(ns)/\(n)")
            },
            .field("StorageClass", ["spec", "storageClassName"], none: ""), .field("VolumeAttributesClass", ["spec", "volumeAttributesClassName"], none: "<unset>"),
            .field("Reason", ["status", "reason"], none: ""), .age, .field("VolumeMode", ["spec", "volumeMode"], priority: 1, none: "<unset>")],
            strategy: .init(defaults: { o in if o["spec"]["persistentVolumeReclaimPolicy"].isNull { o["spec"]["persistentVolumeReclaimPolicy"] = "Retain" }; if o["spec"]["volumeMode"].isNull { o["spec"]["volumeMode"] = "Filesystem" } },
                            prepareForCreate: { o in o["status"] = ["phase": "Pending"] })),
        simple("", "PersistentVolumeClaim", "persistentvolumeclaims", ["pvc"], hasStatus: true, columns: [
            PrinterColumn("Status") { o in o["metadata"]["deletionTimestamp"].isNull ? .string(o["status"]["phase"].string ?? "") : "Terminating" },
            .field("Volume", ["spec", "volumeName"], none: ""),
            PrinterColumn("Capacity") { o in (o["spec"]["volumeName"].string ?? "").isEmpty ? "" : .string(o["status"]["capacity"]["storage"].string ?? "0") },
            PrinterColumn("Access Modes") { o in (o["spec"]["volumeName"].string ?? "").isEmpty ? "" : PrinterColumn.accessModes(["status", "accessModes"]).cell(o) },
            .field("StorageClass", ["spec", "storageClassName"], none: ""), .field("VolumeAttributesClass", ["spec", "volumeAttributesClassName"], none: "<unset>"),
            .age, .field("VolumeMode", ["spec", "volumeMode"], priority: 1, none: "<unset>")],
            strategy: .init(defaults: { o in if o["spec"]["volumeMode"].isNull { o["spec"]["volumeMode"] = "Filesystem" } },
                            prepareForCreate: { o in o["status"] = ["phase": "Pending"] }, validateUpdate: StorageValidation.claimUpdate)),
        ResourceDefinition(group: "", version: "v1", kind: "ReplicationController", plural: "replicationcontrollers", shortNames: ["rc"], categories: ["all"],
            hasStatus: true, scale: ScaleSubresource(labelSelectorPath: ["spec", "selector"]), tracksGeneration: true,
            strategy: .init(defaults: { o in
                if o["spec"]["replicas"].isNull { o["spec"]["replicas"] = 1 }
                // As upstream: an empty selector, or no labels of its own, come from the template's labels.
                let labels = o["spec"]["template"]["metadata"]["labels"]
                if labels.object?.isEmpty == false {
                    if o["spec"]["selector"].object?.isEmpty ?? true { o["spec"]["selector"] = labels }
                    if o["metadata"]["labels"].object?.isEmpty ?? true { o["metadata"]["labels"] = labels }
                }
                var s = o["spec"]["template"]["spec"]; podDefaults(&s); if !s.isNull { o["spec"]["template"]["spec"] = s }
            }, prepareForCreate: { o in o["status"] = ["replicas": 0] }),
            columns: [int("Desired", ["spec", "replicas"]), int("Current", ["status", "replicas"]), int("Ready", ["status", "readyReplicas"]), .age]
                + workloadWide(["spec", "template", "spec"], ["spec", "selector"]),
            schemaName: "io.k8s.api.core.v1.ReplicationController"),
        simple("", "ResourceQuota", "resourcequotas", ["quota"], hasStatus: true, columns: [.age,
            PrinterColumn("Request") { o in .string(quotaUsage(o, limits: false)) }, PrinterColumn("Limit") { o in .string(quotaUsage(o, limits: true)) }]),
        simple("", "LimitRange", "limitranges", ["limits"], columns: [.field("Created At", ["metadata", "creationTimestamp"])],
               strategy: .init(defaults: limitRangeDefaults)),
        simple("", "PodTemplate", "podtemplates"),
        workload("Deployment", "deployments", ["deploy"], extra: [ratio("Ready", ["status", "readyReplicas"], ["spec", "replicas"]),
                 int("Up-to-date", ["status", "updatedReplicas"]), int("Available", ["status", "availableReplicas"])], defaults: { o in
            if o["spec"]["replicas"].isNull { o["spec"]["replicas"] = 1 }
            // Typed clients send an empty strategy; it is defaulted field by field, as upstream does.
            if o["spec"]["strategy"]["type"].isNull { o["spec"]["strategy"]["type"] = "RollingUpdate" }
            if o["spec"]["strategy"]["type"] == "RollingUpdate" {
                for k in ["maxSurge", "maxUnavailable"] where o["spec"]["strategy"]["rollingUpdate"][k].isNull { o["spec"]["strategy"]["rollingUpdate"][k] = "25%" }
            }
            if o["spec"]["progressDeadlineSeconds"].isNull { o["spec"]["progressDeadlineSeconds"] = 600 }
        }),
        workload("ReplicaSet", "replicasets", ["rs"], extra: [int("Desired", ["spec", "replicas"]), int("Current", ["status", "replicas"]), int("Ready", ["status", "readyReplicas"])],
                 fields: ["status.replicas": { String($0["status"]["replicas"].int ?? 0) }],
                 defaults: { o in if o["spec"]["replicas"].isNull { o["spec"]["replicas"] = 1 } }),
        workload("StatefulSet", "statefulsets", ["sts"], extra: [ratio("Ready", ["status", "readyReplicas"], ["spec", "replicas"])],
                 validateUpdate: WorkloadValidation.statefulSetUpdate, defaults: { o in
            if o["spec"]["replicas"].isNull { o["spec"]["replicas"] = 1 }
            if o["spec"]["podManagementPolicy"].isNull { o["spec"]["podManagementPolicy"] = "OrderedReady" }
            if o["spec"]["updateStrategy"]["type"].isNull { o["spec"]["updateStrategy"]["type"] = "RollingUpdate" }
            if o["spec"]["updateStrategy"]["type"] == "RollingUpdate", o["spec"]["updateStrategy"]["rollingUpdate"]["partition"].isNull {
                o["spec"]["updateStrategy"]["rollingUpdate"]["partition"] = 0
            }
            for k in ["whenDeleted", "whenScaled"] where o["spec"]["persistentVolumeClaimRetentionPolicy"][k].isNull {
                o["spec"]["persistentVolumeClaimRetentionPolicy"][k] = "Retain"
            }
        }),
        workload("DaemonSet", "daemonsets", ["ds"], scale: false, extra: [int("Desired", ["status", "desiredNumberScheduled"]), int("Current", ["status", "currentNumberScheduled"]),
                 int("Ready", ["status", "numberReady"]), int("Up-to-date", ["status", "updatedNumberScheduled"]), int("Available", ["status", "numberAvailable"]),
                 PrinterColumn("Node Selector") { o in .string(selector(o, ["spec", "template", "spec", "nodeSelector"])) }],
                 // The status fields upstream always writes (not omitempty): a typed client needs them.
                 initialStatus: ["currentNumberScheduled": 0, "numberMisscheduled": 0, "desiredNumberScheduled": 0, "numberReady": 0], defaults: { o in
            if o["spec"]["updateStrategy"]["type"].isNull { o["spec"]["updateStrategy"]["type"] = "RollingUpdate" }
            if o["spec"]["updateStrategy"]["type"] == "RollingUpdate" {
                for (k, v) in [("maxUnavailable", JSON.int(1)), ("maxSurge", 0)] where o["spec"]["updateStrategy"]["rollingUpdate"][k].isNull {
                    o["spec"]["updateStrategy"]["rollingUpdate"][k] = v
                }
            }
        }),
        simple("apps", "ControllerRevision", "controllerrevisions", columns: [
            PrinterColumn("Controller") { o in .string((o["metadata"]["ownerReferences"].array?.first).map { "\(($0["kind"].string ?? "").lowercased()).apps/\($0["name"].string ?? "")" } ?? "<none>") },
            int("Revision", ["revision"]), .age]),
        ResourceDefinition(group: "batch", version: "v1", kind: "Job", plural: "jobs", categories: ["all"], hasStatus: true, tracksGeneration: true,
            strategy: .init(defaults: { o in
                for (k, v) in [("parallelism", JSON.int(1)), ("completions", 1), ("backoffLimit", 6), ("completionMode", "NonIndexed"), ("suspend", false),
                               ("manualSelector", false)] where o["spec"][k].isNull { o["spec"][k] = v }
                if o["spec"]["podReplacementPolicy"].isNull, o["spec"]["podFailurePolicy"].isNull { o["spec"]["podReplacementPolicy"] = "TerminatingOrFailed" }
                if o["spec"]["template"]["spec"]["restartPolicy"].isNull { o["spec"]["template"]["spec"]["restartPolicy"] = "Never" }
                var s = o["spec"]["template"]["spec"]; podDefaults(&s); o["spec"]["template"]["spec"] = s
            }, prepareForCreate: { o in
                o["status"] = .emptyObject
                // Upstream ties a job to its pods by generated labels unless the user chose a selector.
                if o["spec"]["manualSelector"].bool != true, let uid = o["metadata"]["uid"].string, let name = o["metadata"]["name"].string {
                    o["spec"]["selector"] = ["matchLabels": ["batch.kubernetes.io/controller-uid": .string(uid)]]
                    for (k, v) in [("batch.kubernetes.io/controller-uid", uid), ("batch.kubernetes.io/job-name", name), ("controller-uid", uid), ("job-name", name)] {
                        o["spec"]["template"]["metadata"]["labels"][k] = .string(v)
                    }
                }
            }, validate: WorkloadValidation.job, validateUpdate: WorkloadValidation.jobUpdate),
            columns: [PrinterColumn("Status") { o in .string((o["status"]["conditions"].array ?? []).last { $0["status"] == "True" }?["type"].string ?? "Running") },
                      PrinterColumn("Completions") { o in .string("\(o["status"]["succeeded"].int ?? 0)/\(o["spec"]["completions"].int ?? 1)") },
                      PrinterColumn("Duration") { o in
                          // Start to completion, or to now while running; nothing before it starts.
                          guard let start = o["status"]["startTime"].string.flatMap(APITime.parse) else { return "" }
                          let end = o["status"]["completionTime"].string.flatMap(APITime.parse) ?? Date()
                          return .string(APITime.humanDuration(end.timeIntervalSince(start)))
                      }, .age] + workloadWide(["spec", "template", "spec"], ["spec", "selector"]),
            fieldSelectors: ["status.successful": { String($0["status"]["succeeded"].int ?? 0) }],
            schemaName: "io.k8s.api.batch.v1.Job"),
        ResourceDefinition(group: "batch", version: "v1", kind: "CronJob", plural: "cronjobs", shortNames: ["cj"], categories: ["all"], hasStatus: true, tracksGeneration: true,
            strategy: .init(defaults: { o in
                for (k, v) in [("concurrencyPolicy", JSON.string("Allow")), ("suspend", false), ("successfulJobsHistoryLimit", 3), ("failedJobsHistoryLimit", 1)] where o["spec"][k].isNull { o["spec"][k] = v }
                var s = o["spec"]["jobTemplate"]["spec"]["template"]["spec"]; podDefaults(&s)
                if !s.isNull { o["spec"]["jobTemplate"]["spec"]["template"]["spec"] = s }
            }, prepareForCreate: { o in o["status"] = .emptyObject }, validate: WorkloadValidation.cronJob, validateUpdate: WorkloadValidation.cronJobUpdate),
            columns: [.field("Schedule", ["spec", "schedule"]), .field("Timezone", ["spec", "timeZone"]),
                      PrinterColumn("Suspend") { o in .string(o["spec"]["suspend"].bool == true ? "True" : "False") },
                      PrinterColumn("Active", type: "integer") { o in .int(Int64(o["status"]["active"].array?.count ?? 0)) },
                      PrinterColumn("Last Schedule") { o in .string(o["status"]["lastScheduleTime"].isNull ? "<none>" : APITime.age(o["status"]["lastScheduleTime"])) }, .age]
                + workloadWide(["spec", "jobTemplate", "spec", "template", "spec"], ["spec", "jobTemplate", "spec", "selector"]),
            schemaName: "io.k8s.api.batch.v1.CronJob"),
        simple("discovery.k8s.io", "EndpointSlice", "endpointslices", columns: [.field("AddressType", ["addressType"]),
            PrinterColumn("Ports") { o in .string((o["ports"].array ?? []).compactMap { $0["port"].int.map(String.init) }.joined(separator: ",").isEmpty ? "<unset>" : (o["ports"].array ?? []).compactMap { $0["port"].int.map(String.init) }.joined(separator: ",")) },
            PrinterColumn("Endpoints") { o in .string((o["endpoints"].array ?? []).flatMap { ($0["addresses"].array ?? []).compactMap(\.string) }.joined(separator: ",").isEmpty ? "<unset>" : (o["endpoints"].array ?? []).flatMap { ($0["addresses"].array ?? []).compactMap(\.string) }.joined(separator: ",")) }, .age]),
        simple("coordination.k8s.io", "Lease", "leases", columns: [.field("Holder", ["spec", "holderIdentity"], none: ""), .age]),
        Events.eventsV1,
        // networking.k8s.io: served because kubectl's default prune set (apply --prune) lists Ingress.
        simple("networking.k8s.io", "Ingress", "ingresses", ["ing"], hasStatus: true, columns: [
            .field("Class", ["spec", "ingressClassName"]),
            PrinterColumn("Hosts") { o in
                let hosts = (o["spec"]["rules"].array ?? []).compactMap { $0["host"].string }
                return .string(hosts.isEmpty ? "*" : hosts.joined(separator: ","))
            },
            PrinterColumn("Address") { o in
                .string((o["status"]["loadBalancer"]["ingress"].array ?? []).compactMap { $0["ip"].string ?? $0["hostname"].string }.joined(separator: ","))
            },
            PrinterColumn("Ports") { o in .string((o["spec"]["tls"].array ?? []).isEmpty ? "80" : "80, 443") }, .age]),
        simple("networking.k8s.io", "IngressClass", "ingressclasses", namespaced: false, columns: [
            .field("Controller", ["spec", "controller"]),
            PrinterColumn("Parameters") { o in
                let p = o["spec"]["parameters"]
                return .string(p.isNull ? "<none>" : "\(p["kind"].string ?? "")/\(p["name"].string ?? "")")
            }, .age]),
        simple("networking.k8s.io", "NetworkPolicy", "networkpolicies", ["netpol"], columns: [
            PrinterColumn("Pod-Selector") { o in
                let d = (try? LabelSelector.fromStructured(o["spec"]["podSelector"]))?.description ?? ""
                return .string(d.isEmpty ? "<none>" : d)
            }, .age], strategy: .init(defaults: networkPolicyDefaults)),
        simple("storage.k8s.io", "StorageClass", "storageclasses", ["sc"], namespaced: false, columns: [
            PrinterColumn("Name", format: "name") { o in
                let name = o["metadata"]["name"].string ?? ""
                return .string(o["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"] == "true" ? "\(name) (default)" : name)
            },
            .field("Provisioner", ["provisioner"]), .field("ReclaimPolicy", ["reclaimPolicy"]), .field("VolumeBindingMode", ["volumeBindingMode"]),
            PrinterColumn("AllowVolumeExpansion") { o in .string(o["allowVolumeExpansion"].bool == true ? "true" : "false") }, .age],
            strategy: .init(defaults: { o in if o["reclaimPolicy"].isNull { o["reclaimPolicy"] = "Delete" }; if o["volumeBindingMode"].isNull { o["volumeBindingMode"] = "Immediate" } })).returningDeletedObject(),
        simple("rbac.authorization.k8s.io", "Role", "roles", columns: [.field("Created At", ["metadata", "creationTimestamp"])], nameRule: .pathSegment),
        simple("rbac.authorization.k8s.io", "RoleBinding", "rolebindings", columns: [PrinterColumn("Role") { o in .string("\(o["roleRef"]["kind"].string ?? "")/\(o["roleRef"]["name"].string ?? "")") }, .age] + subjectsWide, nameRule: .pathSegment),
        simple("rbac.authorization.k8s.io", "ClusterRole", "clusterroles", namespaced: false, columns: [.field("Created At", ["metadata", "creationTimestamp"])], nameRule: .pathSegment),
        simple("rbac.authorization.k8s.io", "ClusterRoleBinding", "clusterrolebindings", namespaced: false, columns: [PrinterColumn("Role") { o in .string("\(o["roleRef"]["kind"].string ?? "")/\(o["roleRef"]["name"].string ?? "")") }, .age] + subjectsWide, nameRule: .pathSegment),
    ]

    // MARK: schemas

    static let container = Schema.object("A single application container that you want to run within a pod.", required: ["name"], [
        "name": Schema.string("Name of the container specified as a DNS_LABEL. Each container in a pod must have a unique name (DNS_LABEL). Cannot be updated."),
        "image": Schema.string("Container image name. More info: https://kubernetes.io/docs/concepts/containers/images"),
        "command": Schema.stringList("Entrypoint array. Not executed within a shell."),
        "args": Schema.stringList("Arguments to the entrypoint."),
        "workingDir": Schema.string("Container's working directory."),
        "ports": Schema.array(Schema.ref("io.k8s.api.core.v1.ContainerPort"), "List of ports to expose from the container.", mergeKey: "containerPort", listType: "map", mapKeys: ["containerPort", "protocol"]),
        "env": Schema.array(Schema.ref("io.k8s.api.core.v1.EnvVar"), "List of environment variables to set in the container. Cannot be updated.", mergeKey: "name", listType: "map", mapKeys: ["name"]),
        "resources": Schema.ref("io.k8s.api.core.v1.ResourceRequirements", "Compute Resources required by this container. Cannot be updated."),
        "volumeMounts": Schema.array(Schema.preserveUnknown("VolumeMount describes a mounting of a Volume within a container."), "Pod volumes to mount into the container's filesystem. Cannot be updated.", mergeKey: "mountPath", listType: "map", mapKeys: ["mountPath"]),
        "livenessProbe": Schema.preserveUnknown("Periodic probe of container liveness."),
        "readinessProbe": Schema.preserveUnknown("Periodic probe of container service readiness."),
        "imagePullPolicy": Schema.string("Image pull policy. One of Always, Never, IfNotPresent.", enum: ["Always", "IfNotPresent", "Never"]),
        "terminationMessagePath": Schema.string("Path at which the file to which the container's termination message will be written is mounted into the container's filesystem."),
        "terminationMessagePolicy": Schema.string("Indicate how the termination message should be populated.", enum: ["FallbackToLogsOnError", "File"]),
        "securityContext": Schema.preserveUnknown("SecurityContext defines the security options the container should be run with."),
        "stdin": Schema.boolean("Whether this container should allocate a buffer for stdin in the container runtime."),
        "tty": Schema.boolean("Whether this container should allocate a TTY for itself."),
    ])

    static let podSpec = Schema.object("PodSpec is a description of a pod.", required: ["containers"], [
        "containers": Schema.array(Schema.ref("io.k8s.api.core.v1.Container"), "List of containers belonging to the pod. Containers cannot currently be added or removed. There must be at least one container in a Pod. Cannot be updated.", mergeKey: "name", listType: "map", mapKeys: ["name"]),
        "initContainers": Schema.array(Schema.ref("io.k8s.api.core.v1.Container"), "List of initialization containers belonging to the pod.", mergeKey: "name", listType: "map", mapKeys: ["name"]),
        "ephemeralContainers": Schema.array(Schema.ref("io.k8s.api.core.v1.EphemeralContainer"), "List of ephemeral containers run in this pod. Ephemeral containers may be run in an existing pod to perform user-initiated actions such as debugging. This list cannot be specified when creating a pod, and it cannot be modified by updating the pod spec. In order to add an ephemeral container to an existing pod, use the pod's ephemeralcontainers subresource.", mergeKey: "name", listType: "map", mapKeys: ["name"]),
        "restartPolicy": Schema.string("Restart policy for all containers within the pod. One of Always, OnFailure, Never.", enum: ["Always", "Never", "OnFailure"]),
        "terminationGracePeriodSeconds": Schema.integer("Optional duration in seconds the pod needs to terminate gracefully.", format: "int64"),
        "dnsPolicy": Schema.string("Set DNS policy for the pod. Defaults to \"ClusterFirst\"."),
        "nodeSelector": Schema.stringMap("NodeSelector is a selector which must be true for the pod to fit on a node."),
        "nodeName": Schema.string("NodeName indicates in which node this pod is scheduled."),
        "serviceAccountName": Schema.string("ServiceAccountName is the name of the ServiceAccount to use to run this pod."),
        "schedulerName": Schema.string("If specified, the pod will be dispatched by specified scheduler."),
        "volumes": Schema.array(Schema.preserveUnknown("Volume represents a named volume in a pod."), "List of volumes that can be mounted by containers belonging to the pod.", mergeKey: "name", strategy: "merge,retainKeys", listType: "map", mapKeys: ["name"]),
        "tolerations": Schema.array(Schema.preserveUnknown("The pod this Toleration is attached to tolerates any taint that matches."), "If specified, the pod's tolerations.", listType: "atomic"),
        "securityContext": Schema.preserveUnknown("SecurityContext holds pod-level security attributes and common container settings."),
        "imagePullSecrets": Schema.array(Schema.preserveUnknown("A reference to a secret."), "ImagePullSecrets is an optional list of references to secrets.", mergeKey: "name", listType: "map", mapKeys: ["name"]),
        "enableServiceLinks": Schema.boolean("EnableServiceLinks indicates whether information about services should be injected into pod's environment variables."),
    ])

    public static let schemas: [String: JSON] = {
        var s: [String: JSON] = [
            "io.k8s.api.core.v1.Container": container,
            "io.k8s.api.core.v1.EphemeralContainer": {
                var c = container
                c["description"] = "An EphemeralContainer is a temporary container that you may add to an existing Pod for user-initiated activities such as debugging."
                c["properties"]["targetContainerName"] = Schema.string("If set, the name of the container from PodSpec that this ephemeral container targets. The ephemeral container will be run in the namespaces (IPC, PID, etc) of this container.")
                return c
            }(),
            "io.k8s.api.core.v1.PodSpec": podSpec,
            "io.k8s.api.core.v1.PodTemplateSpec": Schema.object("PodTemplateSpec describes the data a pod should have when created from a template", [
                "metadata": Schema.objectMeta, "spec": Schema.ref("io.k8s.api.core.v1.PodSpec", "Specification of the desired behavior of the pod.")]),
            "io.k8s.api.core.v1.ContainerPort": Schema.object("ContainerPort represents a network port in a single container.", required: ["containerPort"], [
                "containerPort": Schema.integer("Number of port to expose on the pod's IP address."), "name": Schema.string("Name of the port."),
                "protocol": Schema.string("Protocol for port. Must be UDP, TCP, or SCTP. Defaults to \"TCP\"."), "hostPort": Schema.integer("Number of port to expose on the host.")]),
            "io.k8s.api.core.v1.EnvVar": Schema.object("EnvVar represents an environment variable present in a Container.", required: ["name"], [
                "name": Schema.string("Name of the environment variable."), "value": Schema.string("Variable references $(VAR_NAME) are expanded."),
                "valueFrom": Schema.preserveUnknown("Source for the environment variable's value.")]),
            "io.k8s.api.core.v1.ResourceRequirements": Schema.object("ResourceRequirements describes the compute resource requirements.", [
                "limits": Schema.map(Schema.quantity(""), "Limits describes the maximum amount of compute resources allowed."),
                "requests": Schema.map(Schema.quantity(""), "Requests describes the minimum amount of compute resources required.")]),
            "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta": Schema.object("ObjectMeta is metadata that all persisted resources must have.", [
                "name": Schema.string("Name must be unique within a namespace."), "namespace": Schema.string("Namespace defines the space within which each name must be unique."),
                "generateName": Schema.string("GenerateName is an optional prefix, used by the server, to generate a unique name."),
                "labels": Schema.stringMap("Map of string keys and values that can be used to organize and categorize objects."),
                "annotations": Schema.stringMap("Annotations is an unstructured key value map stored with a resource."),
                "uid": Schema.string("UID is the unique in time and space value for this object."), "resourceVersion": Schema.string("An opaque value that represents the internal version of this object."),
                "generation": Schema.integer("A sequence number representing a specific generation of the desired state.", format: "int64"),
                "creationTimestamp": Schema.time("CreationTimestamp is a timestamp representing the server time when this object was created."),
                "deletionTimestamp": Schema.time("DeletionTimestamp is RFC 3339 date and time at which this resource will be deleted."),
                "deletionGracePeriodSeconds": Schema.integer("Number of seconds allowed for this object to gracefully terminate.", format: "int64"),
                "finalizers": Schema.array(Schema.string(""), "Must be empty before the object is deleted from the registry.", strategy: "merge", listType: "set"),
                "ownerReferences": Schema.array(Schema.preserveUnknown("OwnerReference contains enough information to let you identify an owning object."), "List of objects depended by this object.", mergeKey: "uid", listType: "map", mapKeys: ["uid"]),
                "managedFields": Schema.array(Schema.preserveUnknown("ManagedFieldsEntry"), "ManagedFields maps workflow-id and version to the set of fields that are managed by that workflow.", listType: "atomic")]),
            "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta": Schema.object("ListMeta describes metadata that synthetic resources must have.", [
                "resourceVersion": Schema.string("String that identifies the server's internal version of this object."), "continue": Schema.string("continue may be set if the user set a limit on the number of items returned.")]),
            "io.k8s.apimachinery.pkg.apis.meta.v1.Time": ["type": "string", "format": "date-time", "description": "Time is a wrapper around time.Time."],
            "io.k8s.apimachinery.pkg.api.resource.Quantity": ["type": "string", "description": "Quantity is a fixed-point representation of a number."],
            "io.k8s.apimachinery.pkg.util.intstr.IntOrString": ["type": "string", "format": "int-or-string", "x-kubernetes-int-or-string": true, "description": "IntOrString is a type that can hold an int32 or a string."],
        ]
        for def in all {
            guard let name = def.schemaName else { continue }
            var props: [String: JSON] = [:]
            switch def.kind {
            case "Pod":
                props["spec"] = Schema.ref("io.k8s.api.core.v1.PodSpec", "Specification of the desired behavior of the pod.")
                props["status"] = Schema.preserveUnknown("Most recently observed status of the pod.")
            case "ConfigMap":
                props["data"] = Schema.stringMap("Data contains the configuration data."); props["binaryData"] = Schema.map(Schema.string("", format: "byte"), "BinaryData contains the binary data.")
                props["immutable"] = Schema.boolean("Immutable, if set to true, ensures that data stored in the ConfigMap cannot be updated.")
            case "Secret":
                props["data"] = Schema.map(Schema.string("", format: "byte"), "Data contains the secret data."); props["stringData"] = Schema.stringMap("stringData allows specifying non-binary secret data in string form.")
                props["type"] = Schema.string("Used to facilitate programmatic handling of secret data."); props["immutable"] = Schema.boolean("Immutable")
            case "Service":
                // Ports merge by port number in a strategic merge patch, as upstream's ServiceSpec declares.
                var spec = Schema.preserveUnknown("Spec defines the behavior of a service.")
                spec["properties"] = ["ports": Schema.array(Schema.preserveUnknown("ServicePort contains information on service's port."),
                                                            "The list of ports that are exposed by this service.", mergeKey: "port",
                                                            listType: "map", mapKeys: ["port", "protocol"])]
                props["spec"] = spec
                props["status"] = Schema.preserveUnknown("Most recently observed status of the service.")
            case "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "ReplicationController":
                var spec = Schema.preserveUnknown("Specification of the desired behavior of the \(def.kind).")
                spec["properties"] = ["template": Schema.ref("io.k8s.api.core.v1.PodTemplateSpec", "Template describes the pods that will be created."),
                                      "replicas": Schema.integer("Number of desired pods."), "selector": Schema.preserveUnknown("Label selector for pods.")]
                props["spec"] = spec
                props["status"] = Schema.preserveUnknown("Most recently observed status of the \(def.kind).")
            default:
                for key in ["spec", "status", "data", "subsets", "rules", "roleRef", "subjects", "endpoints", "ports", "involvedObject", "provisioner",
                            "reason", "message", "type", "secrets", "imagePullSecrets", "addressType", "revision", "parameters", "source", "count",
                            "firstTimestamp", "lastTimestamp", "eventTime", "reportingComponent", "reportingInstance", "action", "note", "regarding",
                            "reclaimPolicy", "volumeBindingMode", "allowVolumeExpansion", "mountOptions", "aggregationRule", "automountServiceAccountToken"] {
                    props[key] = ["description": .string(key), "x-kubernetes-preserve-unknown-fields": true]
                }
            }
            s[name] = Schema.kind(def.group, def.version, def.kind, "\(def.kind) as served by this cluster.", Schema.withTypeMeta(props))
            s[name + "List"] = Schema.list(def.group, def.version, def.kind, items: name)
        }
        return s
    }()
}
