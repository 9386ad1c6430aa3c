import APIMachinery
import Foundation

/// The core group ("", v1): namespaces, pods, services, config and secrets, nodes, volumes and claims,
/// replication controllers, quotas and limits, as upstream serves them: scope, short names, printer
/// columns, defaults and validation. Their schemas are upstream's (Generated/).
public enum CoreV1 {
    public static let resources: [ResourceDefinition] = [
        .v1("", "Namespace", "namespaces", ["ns"], namespaced: false, hasStatus: true, columns: [.field("Status", ["status", "phase"]), .age], nameRule: .dns1123Label,
            fields: ["status.phase": { $0["status"]["phase"].string }],
            strategy: .init(defaults: { o in
                // Upstream labels every namespace with its own name, so selectors can pick namespaces.
                if let name = o["metadata"]["name"].string { o["metadata"]["labels"]["kubernetes.io/metadata.name"] = .string(name) }
            }, prepareForCreate: { o in o["status"] = ["phase": "Active"]; if o["spec"]["finalizers"].isNull { o["spec"]["finalizers"] = ["kubernetes"] } },
            hasPendingFinalizers: { ns in !(ns["spec"]["finalizers"].array ?? []).isEmpty },
            markForDeletion: { ns in ns["status"]["phase"] = "Terminating" }))
            .with([Subresource("finalize", GroupVersionKind(group: "", version: "v1", kind: "Namespace"), ["update"])]),
        ResourceDefinition(group: "", version: "v1", kind: "Pod", plural: "pods", shortNames: ["po"], categories: ["all"], hasStatus: true, tracksGeneration: true,
            strategy: .init(defaults: { o in var s = o["spec"]; PodDefaults.apply(to: &s); if !s.isNull { o["spec"] = s } },
                            prepareForCreate: { o in o["status"] = ["phase": "Pending", "qosClass": .string(PodQOS.qosClass(o["spec"]))] },
                            validate: { o in PodValidation.spec(o["spec"], "spec") }, validateUpdate: PodValidation.update,
                            validateCreate: PodValidation.create,
                            gracePeriod: { pod, requested in
                                // A pod never scheduled, or finished, has nothing to stop: it goes at once.
                                let phase = pod["status"]["phase"].string
                                if (pod["spec"]["nodeName"].string ?? "").isEmpty || phase == "Succeeded" || phase == "Failed" { return 0 }
                                return requested ?? pod["spec"]["terminationGracePeriodSeconds"].int ?? 30
                            }),
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
            schemaName: "io.k8s.api.core.v1.Pod").returningDeletedObject().with([
                Subresource("binding", GroupVersionKind(group: "", version: "v1", kind: "Binding"), ["create"]),
                Subresource("ephemeralcontainers", GroupVersionKind(group: "", version: "v1", kind: "Pod"), ["get", "patch", "update"]),
                Subresource("eviction", GroupVersionKind(group: "policy", version: "v1", kind: "Eviction"), ["create"]),
                Subresource("log", GroupVersionKind(group: "", version: "v1", kind: "Pod"), ["get"]),
                Subresource("exec", GroupVersionKind(group: "", version: "v1", kind: "PodExecOptions"), ["create", "get"]),
                Subresource("attach", GroupVersionKind(group: "", version: "v1", kind: "PodAttachOptions"), ["create", "get"]),
                Subresource("portforward", GroupVersionKind(group: "", version: "v1", kind: "PodPortForwardOptions"), ["create", "get"]),
            ]),
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
                      PrinterColumn("Selector", priority: 1) { o in .string(PrinterColumn.selector(of: o, ["spec", "selector"])) }],
            fieldSelectors: ["spec.clusterIP": { $0["spec"]["clusterIP"].string }, "spec.type": { $0["spec"]["type"].string }],
            schemaName: "io.k8s.api.core.v1.Service").returningDeletedObject(),
        .v1("", "Endpoints", "endpoints", ["ep"], columns: [PrinterColumn("Endpoints") { o in
            let eps = (o["subsets"].array ?? []).flatMap { s in (s["addresses"].array ?? []).flatMap { a in (s["ports"].array ?? [["port": 0]]).map { "\(a["ip"].string ?? ""):\($0["port"].int ?? 0)" } } }
            return .string(eps.isEmpty ? "<none>" : eps.prefix(3).joined(separator: ",") + (eps.count > 3 ? " + \(eps.count - 3) more..." : ""))
        }, .age]).deprecated("v1 Endpoints is deprecated in v1.33+; use discovery.k8s.io/v1 EndpointSlice"),
        .v1("", "ConfigMap", "configmaps", ["cm"], columns: [PrinterColumn("Data", type: "integer") { .int(Int64(($0["data"].object?.count ?? 0) + ($0["binaryData"].object?.count ?? 0))) }, .age],
            strategy: .init(validate: ConfigValidation.configMap, validateUpdate: ConfigValidation.configMapUpdate)),
        .v1("", "Secret", "secrets", columns: [.field("Type", ["type"]), .count("Data", ["data"]), .age],
            fields: ["type": { $0["type"].string }], strategy: .init(defaults: ConfigValidation.secretDefaults,
                                                                     validate: ConfigValidation.secret, validateUpdate: ConfigValidation.secretUpdate)),
        .v1("", "ServiceAccount", "serviceaccounts", ["sa"], columns: [.count("Secrets", ["secrets"]), .age]).returningDeletedObject()
            .with([Subresource("token", GroupVersionKind(group: "authentication.k8s.io", version: "v1", kind: "TokenRequest"), ["create"])]),
        Events.coreV1,
        .v1("", "Node", "nodes", ["no"], namespaced: false, hasStatus: true, columns: [
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
        .v1("", "PersistentVolume", "persistentvolumes", ["pv"], namespaced: false, hasStatus: true, columns: [
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
        .v1("", "PersistentVolumeClaim", "persistentvolumeclaims", ["pvc"], hasStatus: true, columns: [
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
                var s = o["spec"]["template"]["spec"]; PodDefaults.apply(to: &s); if !s.isNull { o["spec"]["template"]["spec"] = s }
            }, prepareForCreate: { o in o["status"] = ["replicas": 0] }),
            columns: [.int("Desired", ["spec", "replicas"]), .int("Current", ["status", "replicas"]), .int("Ready", ["status", "readyReplicas"]), .age]
                + PrinterColumn.workloadWide(["spec", "template", "spec"], ["spec", "selector"]),
            schemaName: "io.k8s.api.core.v1.ReplicationController"),
        .v1("", "ResourceQuota", "resourcequotas", ["quota"], hasStatus: true, columns: [.age,
            PrinterColumn("Request") { o in .string(quotaUsage(o, limits: false)) }, PrinterColumn("Limit") { o in .string(quotaUsage(o, limits: true)) }]),
        .v1("", "LimitRange", "limitranges", ["limits"], columns: [.field("Created At", ["metadata", "creationTimestamp"])],
            strategy: .init(defaults: limitRangeDefaults)),
        .v1("", "PodTemplate", "podtemplates"),
        // The older way to bind a pod (the scheduler's is pods/binding): create-only, never stored.
        ResourceDefinition(group: "", version: "v1", kind: "Binding", plural: "bindings", verbs: ["create"], schemaName: "io.k8s.api.core.v1.Binding"),
        // Answered from the components' health, not stored; deprecated upstream, and still served.
        ResourceDefinition(group: "", version: "v1", kind: "ComponentStatus", plural: "componentstatuses", shortNames: ["cs"], namespaced: false,
                           verbs: ["get", "list"],
                           columns: [PrinterColumn("Status") { o in .string(o["conditions"][0]["status"] == "True" ? "Healthy" : "Unhealthy") },
                                     PrinterColumn("Message") { o in .string(o["conditions"][0]["message"].string ?? "") },
                                     PrinterColumn("Error") { o in .string(o["conditions"][0]["error"].string ?? "") }],
                           schemaName: "io.k8s.api.core.v1.ComponentStatus", deprecationWarning: "v1 ComponentStatus is deprecated in v1.19+"),
    ]

    static let podStatus = PrinterColumn("Status") { o in
        if o["metadata"]["deletionTimestamp"].string != nil { return "Terminating" }
        var reason = o["status"]["reason"].string ?? o["status"]["phase"].string ?? "Pending"
        for c in o["status"]["containerStatuses"].array ?? [] {
            if let r = c["state"]["waiting"]["reason"].string { reason = r }
            else if let r = c["state"]["terminated"]["reason"].string { reason = r }
        }
        return .string(reason)
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
}
