import APIMachinery

/// networking.k8s.io/v1: Ingress, IngressClass and NetworkPolicy (served because kubectl's default
/// prune set, apply --prune, lists Ingress; no controller acts on them).
public enum NetworkingV1 {
    public static let resources: [ResourceDefinition] = [
        // networking.k8s.io: served because kubectl's default prune set (apply --prune) lists Ingress.
        .v1("networking.k8s.io", "Ingress", "ingresses", ["ing"], hasStatus: true, columns: [
            .field("Class", ["spec", "ingressClassName"]),
            PrinterColumn("Hosts") { o in
                let hosts = (o["spec"]["rules"].array ?? []).compactMap { $0["host"].string }
                return .string(hosts.isEmpty ? "*" : hosts.joined(separator: ","))
            },
            PrinterColumn("Address") { o in
                .string((o["status"]["loadBalancer"]["ingress"].array ?? []).compactMap { $0["ip"].string ?? $0["hostname"].string }.joined(separator: ","))
            },
            PrinterColumn("Ports") { o in .string((o["spec"]["tls"].array ?? []).isEmpty ? "80" : "80, 443") }, .age]),
        .v1("networking.k8s.io", "IngressClass", "ingressclasses", namespaced: false, columns: [
            .field("Controller", ["spec", "controller"]),
            PrinterColumn("Parameters") { o in
                let p = o["spec"]["parameters"]
                return .string(p.isNull ? "<none>" : "\(p["kind"].string ?? "")/\(p["name"].string ?? "")")
            }, .age]),
        .v1("networking.k8s.io", "NetworkPolicy", "networkpolicies", ["netpol"], columns: [
            PrinterColumn("Pod-Selector") { o in
                let d = (try? LabelSelector.fromStructured(o["spec"]["podSelector"]))?.description ?? ""
                return .string(d.isEmpty ? "<none>" : d)
            }, .age], strategy: .init(defaults: networkPolicyDefaults)),
    ]

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
}
