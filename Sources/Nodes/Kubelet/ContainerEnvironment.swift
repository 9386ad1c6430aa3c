import APIMachinery
import Client
import Foundation

/// A container's environment in upstream's order: the service variables of the namespace (and
/// the `kubernetes` service's everywhere), then envFrom sources, then env, each value able to
/// refer to those before it with $(VAR). Missing sources fail as upstream's kubelet words it,
/// which becomes the container's CreateContainerConfigError.
extension Kubelet {
    func environment(_ pod: JSON, _ container: JSON, podIP: String) async throws -> [(String, String)] {
        let namespace = pod["metadata"]["namespace"].string ?? "default"
        var env: [(String, String)] = []
        var values: [String: String] = [:]
        func set(_ name: String, _ value: String) {
            if values[name] != nil { env.removeAll { $0.0 == name } }
            values[name] = value
            env.append((name, value))
        }
        for (k, v) in try await serviceVariables(namespace, links: pod["spec"]["enableServiceLinks"].bool ?? true) { set(k, v) }

        for source in container["envFrom"].array ?? [] {
            let prefix = source["prefix"].string ?? ""
            let data: [String: String]
            if !source["configMapRef"].isNull {
                let ref = source["configMapRef"]
                guard let object = try await lookup("configmaps", namespace, ref["name"].string ?? "", optional: ref["optional"].bool == true) else { continue }
                data = object["data"].stringMap
            } else if !source["secretRef"].isNull {
                let ref = source["secretRef"]
                guard let object = try await lookup("secrets", namespace, ref["name"].string ?? "", optional: ref["optional"].bool == true) else { continue }
                data = Self.decodeSecret(object)
            } else {
                continue
            }
            for key in data.keys.sorted() where Self.isEnvName(prefix + key) { set(prefix + key, data[key]!) }
        }

        for variable in container["env"].array ?? [] {
            guard let name = variable["name"].string else { continue }
            let from = variable["valueFrom"]
            if from.isNull {
                set(name, EnvironmentExpansion.expand(variable["value"].string ?? "", values))
            } else if let value = try await resolve(from, pod, container, podIP: podIP) {
                set(name, value)
            }
        }
        return env
    }

    /// A valueFrom source's value; nil for an optional source that is missing.
    func resolve(_ from: JSON, _ pod: JSON, _ container: JSON, podIP: String) async throws -> String? {
        let namespace = pod["metadata"]["namespace"].string ?? "default"
        if !from["fieldRef"].isNull {
            return try Self.fieldValue(from["fieldRef"]["fieldPath"].string ?? "", pod, podIP: podIP, nodeIP: nodeIP)
        }
        if !from["resourceFieldRef"].isNull {
            return try Self.resourceValue(from["resourceFieldRef"], pod, defaultContainer: container)
        }
        for (field, plural, kind) in [("configMapKeyRef", "configmaps", "ConfigMap"), ("secretKeyRef", "secrets", "Secret")] {
            let ref = from[field]
            guard !ref.isNull else { continue }
            let name = ref["name"].string ?? "", key = ref["key"].string ?? "", optional = ref["optional"].bool == true
            guard let object = try await lookup(plural, namespace, name, optional: optional) else { return nil }
            let data = plural == "secrets" ? Self.decodeSecret(object) : object["data"].stringMap.merging(
                object["binaryData"].stringMap.compactMapValues { Data(base64Encoded: $0).flatMap { String(data: $0, encoding: .utf8) } }) { a, _ in a }
            guard let value = data[key] else {
                if optional { return nil }
                throw ConfigError(description: "couldn't find key \(key) in \(kind) \(namespace)/\(name)")
            }
            return value
        }
        return nil
    }

    /// A ConfigMap or Secret, nil if it is missing and optional.
    func lookup(_ plural: String, _ namespace: String, _ name: String, optional: Bool) async throws -> JSON? {
        do throws(StatusError) {
            return try await client.resource("", "v1", plural).get(namespace, name)
        } catch {
            if error.code == 404 {
                if optional { return nil }
                throw ConfigError(description: "\(plural == "secrets" ? "secret" : "configmap") \"\(name)\" not found")
            }
            throw error
        }
    }

    static func decodeSecret(_ secret: JSON) -> [String: String] {
        secret["data"].stringMap.compactMapValues { Data(base64Encoded: $0).flatMap { String(data: $0, encoding: .utf8) } }
    }

    static func isEnvName(_ name: String) -> Bool {
        guard let first = name.first, !first.isNumber else { return false }
        return name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." }
    }

    /// The downward API's fields, as env values and downwardAPI volume files read them.
    static func fieldValue(_ path: String, _ pod: JSON, podIP: String, nodeIP: String) throws -> String {
        let meta = pod["metadata"]
        func mapValue(_ prefix: String, _ map: JSON) -> String? {
            guard path.hasPrefix(prefix + "['"), path.hasSuffix("']") else { return nil }
            return map[String(path.dropFirst(prefix.count + 2).dropLast(2))].string ?? ""
        }
        switch path {
        case "metadata.name": return meta["name"].string ?? ""
        case "metadata.namespace": return meta["namespace"].string ?? ""
        case "metadata.uid": return meta["uid"].string ?? ""
        case "metadata.labels": return formatMap(meta["labels"])
        case "metadata.annotations": return formatMap(meta["annotations"])
        case "spec.nodeName": return pod["spec"]["nodeName"].string ?? ""
        case "spec.serviceAccountName": return pod["spec"]["serviceAccountName"].string ?? ""
        case "status.hostIP", "status.hostIPs": return nodeIP
        case "status.podIP", "status.podIPs": return pod["spec"]["hostNetwork"].bool == true ? nodeIP : podIP
        default:
            if let v = mapValue("metadata.labels", meta["labels"]) ?? mapValue("metadata.annotations", meta["annotations"]) { return v }
            throw ConfigError(description: "unsupported fieldPath: \(path)")
        }
    }

    /// key="value" lines, sorted, as upstream writes labels and annotations to files.
    static func formatMap(_ map: JSON) -> String {
        map.stringMap.sorted { $0.key < $1.key }.map { k, v in
            "\(k)=\"\(v.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n"))\""
        }.joined(separator: "\n")
    }

    /// limits.cpu, requests.memory, ... of a container, divided by the divisor and rounded up;
    /// an unset limit is the node's allocatable amount, as upstream's kubelet reports it.
    static func resourceValue(_ ref: JSON, _ pod: JSON, defaultContainer: JSON?) throws -> String {
        let name = ref["containerName"].string ?? defaultContainer?["name"].string ?? ""
        guard let container = ((pod["spec"]["containers"].array ?? []) + (pod["spec"]["initContainers"].array ?? []))
            .first(where: { $0["name"].string == name }) else {
            throw ConfigError(description: "cannot find container \"\(name)\" for resourceFieldRef")
        }
        let resource = ref["resource"].string ?? ""
        let parts = resource.split(separator: ".", maxSplits: 1).map(String.init)
        guard parts.count == 2, ["limits", "requests"].contains(parts[0]) else { throw ConfigError(description: "unsupported container resource: \(resource)") }
        var value = Quantity.value(container["resources"][parts[0]][parts[1]])
        if value == 0, parts[0] == "limits" {
            value = parts[1] == "cpu" ? Double(Machine.cpuCount) : parts[1] == "memory" ? Double(Machine.memoryBytes) : Double(Machine.ephemeralStorageBytes)
        }
        let divisor = ref["divisor"].isNull ? 1 : Quantity.value(ref["divisor"])
        return String(Quantity.integer(value / (divisor == 0 ? 1 : divisor)))
    }

    /// Docker-link style variables for each service with a cluster IP: those of the namespace
    /// when enableServiceLinks, and always the `kubernetes` service's.
    func serviceVariables(_ namespace: String, links: Bool) async throws -> [(String, String)] {
        let services = client.resource("", "v1", "services")
        var chosen: [String: JSON] = [:]
        if links {
            for s in try await services.list(namespace).items { chosen[s["metadata"]["name"].string ?? ""] = s }
        }
        if let master = try? await services.get("default", "kubernetes") { chosen["kubernetes"] = master }
        var env: [(String, String)] = []
        for name in chosen.keys.sorted() {
            let service = chosen[name]!
            guard let ip = service["spec"]["clusterIP"].string, !ip.isEmpty, ip != "None" else { continue }
            let prefix = name.uppercased().replacingOccurrences(of: "-", with: "_")
            let ports = service["spec"]["ports"].array ?? []
            env.append(("\(prefix)_SERVICE_HOST", ip))
            if let first = ports.first, let port = first["port"].int {
                env.append(("\(prefix)_SERVICE_PORT", String(port)))
                let proto = (first["protocol"].string ?? "TCP").lowercased()
                env.append(("\(prefix)_PORT", "\(proto)://\(ip):\(port)"))
            }
            for p in ports {
                guard let port = p["port"].int else { continue }
                let proto = p["protocol"].string ?? "TCP"
                if let portName = p["name"].string, !portName.isEmpty {
                    env.append(("\(prefix)_SERVICE_PORT_\(portName.uppercased().replacingOccurrences(of: "-", with: "_"))", String(port)))
                }
                let base = "\(prefix)_PORT_\(port)_\(proto)"
                env += [(base, "\(proto.lowercased())://\(ip):\(port)"), ("\(base)_PROTO", proto.lowercased()),
                        ("\(base)_PORT", String(port)), ("\(base)_ADDR", ip)]
            }
        }
        return env
    }
}
