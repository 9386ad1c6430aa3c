import APIMachinery
import CRI
import Foundation
import Resources

/// The CRI sandbox of a pod, as upstream's kubelet describes it: metadata and labels that find it
/// again, hostname, DNS by dnsPolicy, host ports, log folder, the cgroup parent of its QoS
/// class, host namespaces and the pod-level security context.
extension Kubelet {
    func sandboxConfig(_ pod: JSON, attempt: UInt32) -> Runtime_V1_PodSandboxConfig {
        let meta = pod["metadata"], spec = pod["spec"]
        let uid = meta["uid"].string ?? "", name = meta["name"].string ?? "", namespace = meta["namespace"].string ?? ""
        let hostNetwork = spec["hostNetwork"].bool == true
        var config = Runtime_V1_PodSandboxConfig()
        config.metadata = .with {
            $0.name = name
            $0.namespace = namespace
            $0.uid = uid
            $0.attempt = attempt
        }
        config.hostname = hostNetwork ? ProcessInfo.processInfo.hostName : Self.hostname(pod)
        config.logDirectory = podLogDirectory(pod).path
        config.labels = meta["labels"].stringMap.merging([CRIKeys.podName: name, CRIKeys.podNamespace: namespace, CRIKeys.podUID: uid]) { _, k in k }
        config.annotations = meta["annotations"].stringMap
        if let dns = dnsConfig(pod) { config.dnsConfig = dns }
        for c in spec["containers"].array ?? [] {
            for p in c["ports"].array ?? [] {
                guard let hostPort = p["hostPort"].int, hostPort > 0 else { continue }
                config.portMappings.append(.with {
                    $0.protocol = Self.protocolOf(p["protocol"].string)
                    $0.containerPort = Int32(p["containerPort"].int ?? 0)
                    $0.hostPort = Int32(hostPort)
                    $0.hostIp = p["hostIP"].string ?? ""
                })
            }
        }
        let security = spec["securityContext"]
        config.linux = .with { linux in
            linux.cgroupParent = Self.cgroupParent(pod, root: self.config.layout.cgroupParent)
            linux.securityContext = .with { s in
                s.namespaceOptions = .with {
                    $0.network = hostNetwork ? .node : .pod
                    $0.pid = spec["hostPID"].bool == true ? .node : .container
                    $0.ipc = spec["hostIPC"].bool == true ? .node : .pod
                }
                if let user = security["runAsUser"].int { s.runAsUser = .with { $0.value = user } }
                if let group = security["runAsGroup"].int { s.runAsGroup = .with { $0.value = group } }
                s.supplementalGroups = (security["supplementalGroups"].array ?? []).compactMap(\.int) + (security["fsGroup"].int.map { [$0] } ?? [])
                s.privileged = ((spec["containers"].array ?? []) + (spec["initContainers"].array ?? []))
                    .contains { $0["securityContext"]["privileged"].bool == true }
            }
            for sysctl in security["sysctls"].array ?? [] {
                if let n = sysctl["name"].string { linux.sysctls[n] = sysctl["value"].string ?? "" }
            }
        }
        return config
    }

    /// Where the pod's container logs go: LOGS/NAMESPACE_NAME_UID, as /var/log/pods.
    func podLogDirectory(_ pod: JSON) -> URL {
        let meta = pod["metadata"]
        return config.layout.podLogsDirectory.appendingPathComponent(
            "\(meta["namespace"].string ?? "")_\(meta["name"].string ?? "")_\(meta["uid"].string ?? "")")
    }

    /// The pod's hostname: spec.hostname, else its name, cut to a DNS label as upstream does.
    static func hostname(_ pod: JSON) -> String {
        let name = pod["spec"]["hostname"].string ?? pod["metadata"]["name"].string ?? ""
        return String(name.prefix(63)).trimmingCharacters(in: CharacterSet(charactersIn: "-."))
    }

    /// DNS by dnsPolicy: ClusterFirst (and ClusterFirstWithHostNet) point at the cluster DNS with
    /// the namespace's search path and ndots:5; Default takes the node's resolv.conf (containerd
    /// copies it when given none); None only what dnsConfig says. dnsConfig is merged into each.
    func dnsConfig(_ pod: JSON) -> Runtime_V1_DNSConfig? {
        let spec = pod["spec"]
        var policy = spec["dnsPolicy"].string ?? "ClusterFirst"
        if policy == "ClusterFirst" && spec["hostNetwork"].bool == true { policy = "Default" }
        if policy == "ClusterFirstWithHostNet" { policy = "ClusterFirst" }
        var dns = Runtime_V1_DNSConfig()
        switch policy {
        case "ClusterFirst":
            let ns = pod["metadata"]["namespace"].string ?? "default"
            let domain = ClusterNetwork.clusterDomain
            dns.servers = [config.network.dnsServiceIP]
            dns.searches = ["\(ns).svc.\(domain)", "svc.\(domain)", domain]
            dns.options = ["ndots:5"]
        case "None":
            break
        default:
            if spec["dnsConfig"].isNull { return nil }
            let host = (try? String(contentsOfFile: "/etc/resolv.conf", encoding: .utf8)) ?? ""
            for line in host.split(separator: "\n") {
                let words = line.split(separator: " ").map(String.init)
                guard let first = words.first, words.count > 1 else { continue }
                if first == "nameserver" { dns.servers.append(words[1]) }
                if first == "search" { dns.searches += words.dropFirst() }
                if first == "options" { dns.options += words.dropFirst() }
            }
        }
        let extra = spec["dnsConfig"]
        dns.servers += (extra["nameservers"].array ?? []).compactMap(\.string)
        dns.searches += (extra["searches"].array ?? []).compactMap(\.string)
        for option in extra["options"].array ?? [] {
            guard let name = option["name"].string else { continue }
            dns.options.removeAll { $0 == name || $0.hasPrefix(name + ":") }
            dns.options.append(option["value"].string.map { "\(name):\($0)" } ?? name)
        }
        return dns
    }

    /// Guaranteed pods sit right under the cluster's cgroup, the others under their class's.
    static func cgroupParent(_ pod: JSON, root: String) -> String {
        let uid = pod["metadata"]["uid"].string ?? ""
        switch PodQOS.qosClass(pod["spec"]) {
        case "Guaranteed": return "\(root)/pod\(uid)"
        case "Burstable": return "\(root)/burstable/pod\(uid)"
        default: return "\(root)/besteffort/pod\(uid)"
        }
    }

    static func protocolOf(_ name: String?) -> Runtime_V1_Protocol {
        switch name {
        case "UDP": .udp
        case "SCTP": .sctp
        default: .tcp
        }
    }
}
