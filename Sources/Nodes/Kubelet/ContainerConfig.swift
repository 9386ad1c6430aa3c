import APIMachinery
import CRI
import Foundation
import Resources

/// A container as CRI creates it, from its spec the way upstream's kubelet generates it:
/// command and args with $(VAR) expanded, the environment, volume mounts (with subPath and
/// propagation), /etc/hosts and the termination-message file, cpu and memory limits, the OOM
/// score of its QoS class, and its security context over the pod's.
extension Kubelet {
    struct ConfigError: Error, CustomStringConvertible {
        let description: String
    }

    func containerConfig(_ pod: JSON, _ container: JSON, imageRef: String, mounts: PodMounts, podIP: String,
                         attempt: UInt32, restartCount: Int64) async throws -> Runtime_V1_ContainerConfig {
        let meta = pod["metadata"], spec = pod["spec"]
        let name = container["name"].string ?? ""
        let env = try await environment(pod, container, podIP: podIP)
        let values = Dictionary(env, uniquingKeysWith: { _, last in last })
        var config = Runtime_V1_ContainerConfig()
        config.metadata = .with {
            $0.name = name
            $0.attempt = attempt
        }
        config.image = .with {
            $0.image = imageRef
            $0.userSpecifiedImage = container["image"].string ?? ""
        }
        config.command = (container["command"].array ?? []).compactMap(\.string).map { EnvironmentExpansion.expand($0, values) }
        config.args = (container["args"].array ?? []).compactMap(\.string).map { EnvironmentExpansion.expand($0, values) }
        config.workingDir = container["workingDir"].string ?? ""
        config.envs = env.map { (k, v) in .with { $0.key = k; $0.value = Data(v.utf8) } }
        config.stdin = container["stdin"].bool ?? false
        config.stdinOnce = container["stdinOnce"].bool ?? false
        config.tty = container["tty"].bool ?? false
        config.logPath = "\(name)/\(attempt).log"
        config.labels = [CRIKeys.podName: meta["name"].string ?? "", CRIKeys.podNamespace: meta["namespace"].string ?? "",
                         CRIKeys.podUID: meta["uid"].string ?? "", CRIKeys.containerName: name]
        config.annotations = [CRIKeys.containerHash: Self.hash(container), CRIKeys.restartCount: String(restartCount),
                              CRIKeys.terminationMessagePath: container["terminationMessagePath"].string ?? "",
                              CRIKeys.terminationMessagePolicy: container["terminationMessagePolicy"].string ?? "File",
                              CRIKeys.terminationGracePeriod: String(spec["terminationGracePeriodSeconds"].int ?? 30)]
        config.mounts = try await self.mounts(pod, container, mounts, values: values)
        if let path = container["terminationMessagePath"].string, !path.isEmpty {
            let file = try volumes.terminationMessageFile(pod, container: name, attempt: attempt)
            config.annotations[CRIKeys.terminationMessageFile] = file.path
            config.mounts.append(.with {
                $0.containerPath = path
                $0.hostPath = file.path
            })
        }
        config.linux = .with {
            $0.resources = Self.resources(pod, container)
            $0.securityContext = Self.securityContext(pod, container)
        }
        return config
    }

    func mounts(_ pod: JSON, _ container: JSON, _ mounts: PodMounts, values: [String: String]) async throws -> [Runtime_V1_Mount] {
        var result: [Runtime_V1_Mount] = []
        for m in container["volumeMounts"].array ?? [] {
            let volume = m["name"].string ?? ""
            guard let source = mounts.volumes[volume] else { throw ConfigError(description: "cannot find volume \"\(volume)\" to mount into container \"\(container["name"].string ?? "")\"") }
            var hostPath = source.path
            let subPath = m["subPath"].string ?? m["subPathExpr"].string.map { EnvironmentExpansion.expand($0, values) } ?? ""
            if !subPath.isEmpty {
                guard !subPath.hasPrefix("/"), !subPath.split(separator: "/").contains("..") else {
                    throw ConfigError(description: "failed to prepare subPath for volumeMount \"\(volume)\": \(subPath) must be a relative path without ..")
                }
                hostPath = source.appendingPathComponent(subPath).path
                if !FileManager.default.fileExists(atPath: hostPath) {
                    try FileManager.default.createDirectory(atPath: hostPath, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
                }
            }
            result.append(.with {
                $0.containerPath = m["mountPath"].string ?? ""
                $0.hostPath = hostPath
                $0.readonly = m["readOnly"].bool == true || mounts.readOnly.contains(volume)
                $0.propagation = switch m["mountPropagation"].string {
                case "HostToContainer": .propagationHostToContainer
                case "Bidirectional": .propagationBidirectional
                default: .propagationPrivate
                }
            })
        }
        // The pod's own /etc/hosts (its IP and hostname), unless the node's network is its own.
        let mountsHosts = result.contains { $0.containerPath == "/etc/hosts" }
        if pod["spec"]["hostNetwork"].bool != true && !mountsHosts, let hosts = mounts.hostsFile {
            result.append(.with {
                $0.containerPath = "/etc/hosts"
                $0.hostPath = hosts.path
            })
        }
        return result
    }

    /// cpu shares from the request, a CFS quota from the limit, the memory limit, and the OOM
    /// score adjustment of the pod's QoS class, as upstream's kubelet computes them.
    static func resources(_ pod: JSON, _ container: JSON) -> Runtime_V1_LinuxContainerResources {
        let requests = container["resources"]["requests"], limits = container["resources"]["limits"]
        var r = Runtime_V1_LinuxContainerResources()
        let cpuRequest = requests["cpu"].isNull ? limits["cpu"] : requests["cpu"]
        r.cpuShares = min(262_144, max(2, Quantity.milli(cpuRequest).multipliedSaturated(by: 1024) / 1000))
        if !limits["cpu"].isNull {
            r.cpuPeriod = 100_000
            r.cpuQuota = max(1000, Quantity.milli(limits["cpu"]).multipliedSaturated(by: 100_000) / 1000)
        }
        if !limits["memory"].isNull { r.memoryLimitInBytes = Quantity.integer(limits["memory"]) }
        switch PodQOS.qosClass(pod["spec"]) {
        case "Guaranteed": r.oomScoreAdj = -997
        case "BestEffort": r.oomScoreAdj = 1000
        default:
            let request = Quantity.value(requests["memory"].isNull ? limits["memory"] : requests["memory"])
            let adj = 1000 - Int64(min(1000 * request / Double(Machine.memoryBytes), 1000))
            r.oomScoreAdj = min(999, max(2, adj))
        }
        return r
    }

    /// The container's security context laid over the pod's.
    static func securityContext(_ pod: JSON, _ container: JSON) -> Runtime_V1_LinuxContainerSecurityContext {
        let podSC = pod["spec"]["securityContext"], sc = container["securityContext"], spec = pod["spec"]
        var s = Runtime_V1_LinuxContainerSecurityContext()
        if let user = sc["runAsUser"].int ?? podSC["runAsUser"].int { s.runAsUser = .with { $0.value = user } }
        if let group = sc["runAsGroup"].int ?? podSC["runAsGroup"].int { s.runAsGroup = .with { $0.value = group } }
        s.supplementalGroups = (podSC["supplementalGroups"].array ?? []).compactMap(\.int) + (podSC["fsGroup"].int.map { [$0] } ?? [])
        s.privileged = sc["privileged"].bool ?? false
        s.readonlyRootfs = sc["readOnlyRootFilesystem"].bool ?? false
        s.noNewPrivs = sc["allowPrivilegeEscalation"].bool == false
        let caps = sc["capabilities"]
        if !caps.isNull {
            s.capabilities = .with {
                $0.addCapabilities = (caps["add"].array ?? []).compactMap(\.string)
                $0.dropCapabilities = (caps["drop"].array ?? []).compactMap(\.string)
            }
        }
        s.namespaceOptions = .with {
            $0.network = spec["hostNetwork"].bool == true ? .node : .pod
            $0.pid = spec["hostPID"].bool == true ? .node : spec["shareProcessNamespace"].bool == true ? .pod : .container
            $0.ipc = spec["hostIPC"].bool == true ? .node : .pod
        }
        return s
    }
}

/// $(VAR) in command, args, env values and subPathExpr, as upstream expands it: a defined
/// variable is replaced, an undefined one left as written, and $$ escapes a dollar.
enum EnvironmentExpansion {
    static func expand(_ input: String, _ values: [String: String]) -> String {
        guard input.contains("$") else { return input }
        var out = "", chars = Array(input), i = 0
        while i < chars.count {
            if chars[i] == "$", i + 1 < chars.count {
                if chars[i + 1] == "$" {
                    out.append("$")
                    i += 2
                    continue
                }
                if chars[i + 1] == "(", let close = chars[(i + 2)...].firstIndex(of: ")") {
                    let name = String(chars[(i + 2)..<close])
                    if let value = values[name] { out += value } else { out += String(chars[i...close]) }
                    i = close + 1
                    continue
                }
            }
            out.append(chars[i])
            i += 1
        }
        return out
    }
}
