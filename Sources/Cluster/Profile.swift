import Foundation
import Localkube

/// One cluster on this machine: a folder under $CUBBY_HOME/profiles holding its config, PKI,
/// store, log and pid file. localkube runs with this folder as its data directory.
public struct Profile: Sendable {
    public struct Config: Codable, Sendable, Equatable {
        public var name: String
        public var port: Int
        public var cubbyVersion: String
        /// The nodes and what runs them; absent in profiles made before nodes existed (one simulated).
        public var nodes: Int?
        public var driver: String?
        /// The pod sandbox image of the containerd driver, when not the standard one.
        public var sandboxImage: String?
        /// The resolv.conf whose nameservers the cluster DNS forwards to, when not the host's.
        public var resolvConf: String?

        /// Where objects live: absent (state.db) or "etcd".
        public var store: String?
        public var etcd: EtcdSettings?
        /// How many localkube processes serve the cluster (on etcd); absent: one.
        public var controlPlanes: Int?

        public var nodeCount: Int { nodes ?? 1 }
        public var usesEtcd: Bool { store == "etcd" }
        public var controlPlaneCount: Int { controlPlanes ?? 1 }
        public var driverName: String { driver ?? ControlPlane.Options.Driver.simulated.rawValue }
    }

    /// The etcd a profile on etcd uses: the servers given, or (none given) one of the profile's own
    /// on loopback, with its data under the profile and ports kept from start to start.
    public struct EtcdSettings: Codable, Sendable, Equatable {
        public var servers: String?
        public var caFile: String?
        public var certFile: String?
        public var keyFile: String?
        public var prefix: String?
        public var clientPort: Int?
        public var peerPort: Int?

        public init(servers: String? = nil, caFile: String? = nil, certFile: String? = nil, keyFile: String? = nil, prefix: String? = nil) {
            self.servers = servers
            self.caFile = caFile
            self.certFile = certFile
            self.keyFile = keyFile
            self.prefix = prefix
        }

        public var ownServer: Bool { servers == nil }
    }

    public let name: String
    public let directory: URL

    public static let defaultName = "cubby"

    public init(name: String, home: URL = Profile.home) throws(ClusterError) {
        guard Self.isValidName(name) else {
            throw ClusterError("invalid profile name \"\(name)\": use lower case letters, digits and '-'")
        }
        self.name = name
        self.directory = home.appendingPathComponent("profiles").appendingPathComponent(name, isDirectory: true)
    }

    /// $CUBBY_HOME, else ~/.cubby.
    public static var home: URL {
        if let h = ProcessInfo.processInfo.environment["CUBBY_HOME"], !h.isEmpty { return URL(fileURLWithPath: h, isDirectory: true) }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cubby", isDirectory: true)
    }

    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 63 && name.first != "-" && name.last != "-"
            && name.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
    }

    public var configURL: URL { directory.appendingPathComponent("config.json") }
    public var pidURL: URL { directory.appendingPathComponent("localkube.pid") }
    public var logURL: URL { directory.appendingPathComponent("localkube.log") }
    public var tokenURL: URL { directory.appendingPathComponent("token") }
    public var pkiDirectory: URL { directory.appendingPathComponent("pki") }
    public var caURL: URL { directory.appendingPathComponent("pki/ca.crt") }
    public var storeURL: URL { directory.appendingPathComponent("state.db") }
    /// The profile's own etcd: its data, log and pid file.
    public var etcdDirectory: URL { directory.appendingPathComponent("etcd", isDirectory: true) }
    /// The data folder of control plane `n` (1 is the profile's folder itself).
    public func controlPlaneDirectory(_ n: Int) -> URL {
        n == 1 ? directory : directory.appendingPathComponent("control-plane-\(n)", isDirectory: true)
    }
    /// The static passwords, upstream's CSV (`password,user,uid,"group1,group2"`); the first line is the admin.
    public var basicAuthURL: URL { directory.appendingPathComponent("basic-auth.csv") }
    public var adminCertificateURL: URL { directory.appendingPathComponent("pki/admin.crt") }
    public var adminKeyURL: URL { directory.appendingPathComponent("pki/admin.key") }

    public var exists: Bool { FileManager.default.fileExists(atPath: configURL.path) }

    /// What lets one in: the PKI (CA, serving, admin and service-account keys), the admin token
    /// and the basic-auth users. Further control planes copy them; snapshots only when asked.
    static let credentialFiles = ["pki", "token", "basic-auth.csv"]

    public func loadConfig() throws(ClusterError) -> Config {
        do {
            return try JSONDecoder().decode(Config.self, from: Data(contentsOf: configURL))
        } catch {
            throw ClusterError("profile \"\(name)\" has an unreadable \(configURL.path)")
        }
    }

    public func save(_ config: Config) throws(ClusterError) {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try AtomicFile.write(String(decoding: try encoder.encode(config), as: UTF8.self) + "\n", to: configURL, mode: 0o600)
        } catch {
            throw ClusterError("cannot write \(configURL.path): \(error)")
        }
    }

    /// Every profile under the home folder, by name.
    public static func all(home: URL = Profile.home) -> [Profile] {
        let dir = home.appendingPathComponent("profiles")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.sorted().compactMap { try? Profile(name: $0, home: home) }.filter(\.exists)
    }
}

/// A failure the CLI prints as one line and exits non-zero on.
public struct ClusterError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
