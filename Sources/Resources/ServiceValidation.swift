import APIMachinery

/// Upstream's validation of Services: type, ports, node ports and cluster IPs.
public enum ServiceValidation {
    public static func service(_ o: JSON) -> [FieldError] {
        let spec = o["spec"]
        var errors: [FieldError] = []
        let type = spec["type"].string ?? "ClusterIP"
        let types = ["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"]
        if !types.contains(type) { errors.append(.notSupported("spec.type", .string(type), types)) }
        let ports = spec["ports"].array ?? []
        if type != "ExternalName", spec["clusterIP"].string != "None", ports.isEmpty { errors.append(.required("spec.ports")) }
        if let affinity = spec["sessionAffinity"].string, !["ClientIP", "None"].contains(affinity) {
            errors.append(.notSupported("spec.sessionAffinity", .string(affinity), ["ClientIP", "None"]))
        }
        var names = Set<String>(), nodePorts = Set<Int64>()
        for (i, p) in ports.enumerated() {
            let path = "spec.ports[\(i)]"
            let name = p["name"].string ?? ""
            if ports.count > 1 && name.isEmpty { errors.append(.required("\(path).name")) }
            if !name.isEmpty {
                for m in NameValidation.dns1123Label(name) { errors.append(.invalid("\(path).name", .string(name), m)) }
                if !names.insert(name).inserted { errors.append(.duplicate("\(path).name", .string(name))) }
            }
            errors += PortValidation.number("\(path).port", p["port"].int ?? 0)
            errors += PortValidation.protocol("\(path).protocol", p["protocol"])
            if let target = p["targetPort"].int { errors += PortValidation.number("\(path).targetPort", target) }
            if let nodePort = p["nodePort"].int {
                if type == "ClusterIP" { errors.append(.forbidden("\(path).nodePort", "may not be used when `type` is 'ClusterIP'")) }
                else if !nodePorts.insert(nodePort).inserted { errors.append(.duplicate("\(path).nodePort", .int(nodePort))) }
            }
        }
        if let ip = spec["clusterIP"].string, !ip.isEmpty {
            if let ips = spec["clusterIPs"].array, ips.first?.string != ip {
                errors.append(.invalid("spec.clusterIPs", spec["clusterIPs"], "first value must match `clusterIP`"))
            }
        } else if let ips = spec["clusterIPs"].array, !ips.isEmpty {
            errors.append(.invalid("spec.clusterIPs", spec["clusterIPs"], "must be empty when `clusterIP` is not specified"))
        }
        return errors
    }

    /// A cluster IP, once set, stays.
    public static func serviceUpdate(_ new: JSON, _ old: JSON) -> [FieldError] {
        let before = old["spec"]["clusterIPs"].array ?? [], after = new["spec"]["clusterIPs"].array ?? []
        guard before.count == after.count else { return [] }
        for i in before.indices where before[i] != after[i] {
            return [.invalid("spec.clusterIPs[\(i)]", new["spec"]["clusterIPs"], "may not change once set")]
        }
        return []
    }
}
