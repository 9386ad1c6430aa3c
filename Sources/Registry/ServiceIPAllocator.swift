import APIMachinery
import Resources

/// Allocates each Service its cluster IP from the service CIDR (10.96.0.0/12 by default) and
/// node ports from 30000-32767, as upstream's service REST storage does. The first address after
/// the network one is kept for the `kubernetes` service; dynamic picks come from above the first
/// /24, so fixed addresses such as the DNS service's 10.96.0.10 stay free for those who ask.
public actor ServiceIPAllocator: AdmissionPlugin {
    let base: UInt32
    let size: UInt32
    var allocated: Set<UInt32> = []
    var nodePorts: Set<Int64> = []

    public init(cidr: String = "10.96.0.0/12") {
        let parts = cidr.split(separator: "/")
        base = Self.parse(String(parts[0])) ?? 0x0A60_0000
        let bits = parts.count > 1 ? UInt32(parts[1]) ?? 12 : 12
        size = bits >= 32 ? 1 : UInt32(1) << (32 - bits)
    }

    static func parse(_ ip: String) -> UInt32? {
        let octets = ip.split(separator: ".").compactMap { UInt32($0) }
        guard octets.count == 4, octets.allSatisfy({ $0 < 256 }) else { return nil }
        return octets.reduce(0) { $0 << 8 | $1 }
    }

    static func format(_ ip: UInt32) -> String {
        "\(ip >> 24).\((ip >> 16) & 0xFF).\((ip >> 8) & 0xFF).\(ip & 0xFF)"
    }

    /// Records what stored services hold, in place of what was recorded (at start-up, and after a
    /// snapshot restore replaced the services).
    public func reload(_ services: [JSON]) {
        allocated = []
        nodePorts = []
        for s in services {
            if let ip = s["spec"]["clusterIP"].string.flatMap(Self.parse) { allocated.insert(ip) }
            for p in s["spec"]["ports"].array ?? [] { if let n = p["nodePort"].int { nodePorts.insert(n) } }
        }
    }

    static func isService(_ def: ResourceDefinition) -> Bool { def.group.isEmpty && def.plural == "services" }

    public func admit(_ request: inout AdmissionRequest) throws(StatusError) {
        guard Self.isService(request.def), request.subresource == nil, request.operation != .delete else { return }
        try allocate(request.operation, object: &request.object, old: request.old, dryRun: request.dryRun)
    }

    func allocate(_ operation: AdmissionOperation, object: inout JSON, old: JSON?, dryRun: Bool) throws(StatusError) {
        let name = object["metadata"]["name"].string ?? ""
        let type = object["spec"]["type"].string ?? "ClusterIP"
        if operation == .update, let old, type == "ClusterIP" || type == "ExternalName",
           ["NodePort", "LoadBalancer"].contains(old["spec"]["type"].string ?? ""), var ports = object["spec"]["ports"].array {
            // A service that stops being NodePort or LoadBalancer gives its node ports back, as
            // upstream's dropTypeDependentFields (ports the client changed meanwhile are its own).
            let oldPorts = old["spec"]["ports"].array ?? []
            for i in ports.indices where oldPorts.contains(where: { $0["nodePort"] == ports[i]["nodePort"] }) {
                if let n = ports[i]["nodePort"].int, !dryRun { nodePorts.remove(n) }
                ports[i]["nodePort"] = nil
            }
            object["spec"]["ports"] = .array(ports)
        }
        if operation == .update, let old {
            // The cluster IP is kept across updates that leave it out.
            if (object["spec"]["clusterIP"].string ?? "").isEmpty, let ip = old["spec"]["clusterIP"].string {
                object["spec"]["clusterIP"] = .string(ip)
                object["spec"]["clusterIPs"] = old["spec"]["clusterIPs"]
            } else if object["spec"]["clusterIP"] != old["spec"]["clusterIP"], object["spec"]["clusterIPs"] == old["spec"]["clusterIPs"],
                      var ips = object["spec"]["clusterIPs"].array, !ips.isEmpty {
                // A new clusterIP alone becomes the first of clusterIPs, as upstream normalizes
                // it; validation then refuses the change.
                ips[0] = object["spec"]["clusterIP"]
                object["spec"]["clusterIPs"] = .array(ips)
            }
        } else if type != "ExternalName" {
            let requested = object["spec"]["clusterIP"].string ?? ""
            if requested == "None" {
                object["spec"]["clusterIPs"] = ["None"]
            } else if !requested.isEmpty {
                guard let ip = Self.parse(requested), ip >= base, ip < base &+ size else {
                    throw invalid(name, "spec.clusterIPs", requested, "failed to allocate IP \(requested): the provided IP (\(requested)) is not in the valid range. The range of valid IPs is \(Self.format(base))/\(32 - size.trailingZeroBitCount)")
                }
                guard !allocated.contains(ip) else {
                    throw invalid(name, "spec.clusterIPs", requested, "failed to allocate IP \(requested): provided IP is already allocated")
                }
                if !dryRun { allocated.insert(ip) }
                object["spec"]["clusterIPs"] = [.string(requested)]
            } else {
                let isKubernetes = name == "kubernetes" && object["metadata"]["namespace"].string == "default"
                guard let ip = isKubernetes && !allocated.contains(base + 1) ? base + 1 : pickIP() else {
                    throw StatusError.internalError("failed to allocate a serviceIP: range is full")
                }
                if !dryRun { allocated.insert(ip) }
                object["spec"]["clusterIP"] = .string(Self.format(ip))
                object["spec"]["clusterIPs"] = [.string(Self.format(ip))]
            }
        }
        if type == "NodePort" || type == "LoadBalancer", var ports = object["spec"]["ports"].array {
            for i in ports.indices {
                if let n = ports[i]["nodePort"].int {
                    let held = old?["spec"]["ports"].array?.contains { $0["nodePort"].int == n } ?? false
                    if !held, !Self.nodePortRange.contains(n) {
                        throw .invalid(kind: "Service", group: "", name: name, [.invalid("spec.ports[\(i)].nodePort", .int(n),
                            "provided port is not in the valid range. The range of valid ports is \(Self.nodePortRange.lowerBound)-\(Self.nodePortRange.upperBound)")])
                    }
                    if !held && nodePorts.contains(n) {
                        throw .invalid(kind: "Service", group: "", name: name, [.invalid("spec.ports[\(i)].nodePort", .int(n), "provided port is already allocated")])
                    }
                    if !dryRun { nodePorts.insert(n) }
                } else if let n = pickNodePort() {
                    if !dryRun { nodePorts.insert(n) }
                    ports[i]["nodePort"] = .int(n)
                }
            }
            object["spec"]["ports"] = .array(ports)
        }
    }

    func invalid(_ name: String, _ field: String, _ value: String, _ detail: String) -> StatusError {
        let v: JSON = field == "spec.clusterIPs" ? .array([.string(value)]) : .string(value)
        return .invalid(kind: "Service", group: "", name: name, [.invalid(field, v, detail)])
    }

    func pickIP() -> UInt32? {
        let low: UInt32 = min(256, size / 2)
        guard size > low + 1 else { return nil }
        let span = size - low - 1
        let start = UInt32.random(in: 0..<span)
        for k in 0..<span {
            let ip = base + low + (start + k) % span
            if !allocated.contains(ip) { return ip }
        }
        return nil
    }

    /// Upstream's default --service-node-port-range.
    static let nodePortRange: ClosedRange<Int64> = 30000...32767

    func pickNodePort() -> Int64? {
        let start = Int64.random(in: 30000...32767)
        for k in 0..<Int64(2768) {
            let p = 30000 + (start - 30000 + k) % 2768
            if !nodePorts.contains(p) { return p }
        }
        return nil
    }

    public func release(_ def: ResourceDefinition, object: JSON) {
        guard Self.isService(def) else { return }
        if let ip = object["spec"]["clusterIP"].string.flatMap(Self.parse) { allocated.remove(ip) }
        for p in object["spec"]["ports"].array ?? [] { if let n = p["nodePort"].int { nodePorts.remove(n) } }
    }
}
