import Foundation
import Localkube
import Yams

/// The user's kubeconfig: the first file of $KUBECONFIG, else ~/.kube/config. Cubby adds or
/// removes one cluster, user and context named after the profile and never touches other
/// entries; every write is atomic (0600), and a file that cannot be parsed is left as it is.
public struct KubeconfigFile: Sendable {
    public let url: URL

    public init(url: URL = KubeconfigFile.defaultURL) { self.url = url }

    public static var defaultURL: URL {
        let env = ProcessInfo.processInfo.environment["KUBECONFIG"] ?? ""
        if let first = env.split(separator: ":").first, !first.isEmpty { return URL(fileURLWithPath: String(first)) }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".kube/config")
    }

    public struct Entry: Sendable {
        public var name: String
        public var server: String
        public var caPEM: String
        /// The admin's client certificate and key (PEM); without them, the bearer token.
        public var clientCertificate: (cert: String, key: String)?
        public var token: String
    }

    /// Adds (or replaces) the profile's entries and makes its context current.
    public func configure(_ entry: Entry) throws(ClusterError) {
        var config = try load()
        let ca = Data(entry.caPEM.utf8).base64EncodedString()
        upsert(&config, "clusters", ["name": entry.name, "cluster": ["server": entry.server, "certificate-authority-data": ca]])
        let user: [String: Any] = if let (cert, key) = entry.clientCertificate {
            ["client-certificate-data": Data(cert.utf8).base64EncodedString(), "client-key-data": Data(key.utf8).base64EncodedString()]
        } else {
            ["token": entry.token]
        }
        upsert(&config, "users", ["name": entry.name, "user": user])
        upsert(&config, "contexts", ["name": entry.name, "context": ["cluster": entry.name, "user": entry.name]])
        config["current-context"] = entry.name
        try save(config)
    }

    /// Removes the profile's entries; current-context is unset if it was the profile's.
    public func remove(name: String) throws(ClusterError) {
        guard FileManager.default.fileExists(atPath: url.path) else { return }
        var config = try load()
        var changed = false
        for section in ["clusters", "users", "contexts"] {
            guard let list = config[section] as? [Any] else { continue }
            let kept = list.filter { ($0 as? [String: Any])?["name"] as? String != name }
            if kept.count != list.count { config[section] = kept; changed = true }
        }
        if config["current-context"] as? String == name { config["current-context"] = ""; changed = true }
        if changed { try save(config) }
    }

    /// Whether the profile's context is there and points at `server`.
    public func isConfigured(name: String, server: String) -> Bool {
        guard let config = try? load() else { return false }
        let clusters = config["clusters"] as? [Any] ?? []
        return clusters.contains { item in
            guard let c = item as? [String: Any], c["name"] as? String == name else { return false }
            return (c["cluster"] as? [String: Any])?["server"] as? String == server
        }
    }

    func load() throws(ClusterError) -> [String: Any] {
        guard FileManager.default.fileExists(atPath: url.path) else { return Self.empty() }
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw ClusterError("cannot read kubeconfig \(url.path): \(error.localizedDescription)")
        }
        let parsed: Any?
        do {
            // Yams traps on a mapping key that is not a scalar (`? [k]`, found by the fuzzer): refused first.
            if let node = try Yams.compose(yaml: text), !Self.hasScalarKeys(node) {
                throw ClusterError("cannot parse kubeconfig \(url.path) (left as it is): a mapping key is not a string")
            }
            parsed = try Yams.load(yaml: text)
        } catch let error as ClusterError {
            throw error
        } catch {
            throw ClusterError("cannot parse kubeconfig \(url.path) (left as it is): \(Self.oneLine(error))")
        }
        if parsed == nil { return Self.empty() }
        guard let config = parsed as? [String: Any] else {
            throw ClusterError("cannot parse kubeconfig \(url.path) (left as it is): not a mapping")
        }
        return config
    }

    static func hasScalarKeys(_ node: Node) -> Bool {
        switch node {
        case .mapping(let mapping):
            return mapping.allSatisfy { pair in
                if case .scalar = pair.key { return hasScalarKeys(pair.value) }
                return false
            }
        case .sequence(let sequence): return sequence.allSatisfy(hasScalarKeys)
        default: return true
        }
    }

    static func empty() -> [String: Any] {
        ["apiVersion": "v1", "kind": "Config", "preferences": [String: Any](), "clusters": [Any](), "users": [Any](), "contexts": [Any]()]
    }

    func save(_ config: [String: Any]) throws(ClusterError) {
        do {
            let dir = url.deletingLastPathComponent()
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try AtomicFile.write(try Yams.dump(object: config, sortKeys: true), to: url, mode: 0o600)
        } catch {
            throw ClusterError("cannot write kubeconfig \(url.path): \(Self.oneLine(error))")
        }
    }

    private func upsert(_ config: inout [String: Any], _ section: String, _ item: [String: Any]) {
        var list = config[section] as? [Any] ?? []
        if let i = list.firstIndex(where: { ($0 as? [String: Any])?["name"] as? String == item["name"] as? String }) {
            list[i] = item
        } else {
            list.append(item)
        }
        config[section] = list
    }

    static func oneLine(_ error: Error) -> String {
        "\(error)".split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
    }
}
