import Foundation
import Localkube
import Logging
import Nodes
import Storage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What `cubby start|stop|delete|status` do to a profile, one named step at a time, each step
/// shown to the person as it runs (minikube's step lines) and each safe to run again.
public struct ClusterLifecycle: Sendable {
    public let home: URL
    public let kubeconfig: KubeconfigFile
    /// The cubby binary that runs `localkube` in the background.
    public let executable: String
    public let say: @Sendable (String) -> Void

    public static let defaultPort = 8443

    public init(home: URL = Profile.home, kubeconfig: KubeconfigFile = KubeconfigFile(), executable: String,
                say: @escaping @Sendable (String) -> Void) {
        self.home = home
        self.kubeconfig = kubeconfig
        self.executable = executable
        self.say = say
    }

    public func existing(_ name: String) throws(ClusterError) -> Profile {
        let profile = try Profile(name: name, home: home)
        guard profile.exists else {
            throw ClusterError("Profile \"\(name)\" not found. Run \"cubby profile list\" to view all profiles.")
        }
        return profile
    }

    // MARK: start

    /// What `cubby start` was asked about the store: nil fields keep the profile's.
    public struct StoreRequest: Sendable {
        public var store: String?
        public var etcd: Profile.EtcdSettings?
        public var controlPlanes: Int?
        public init(store: String? = nil, etcd: Profile.EtcdSettings? = nil, controlPlanes: Int? = nil) {
            self.store = store
            self.etcd = etcd
            self.controlPlanes = controlPlanes
        }
    }

    public func start(name: String, port requested: Int?, nodes: Int? = nil, driver: String? = nil, sandboxImage: String? = nil,
                      resolvConf: String? = nil, store: StoreRequest = StoreRequest(), snapshot snapshotName: String? = nil) async throws(ClusterError) {
        let profile = try Profile(name: name, home: home)
        let process = LocalkubeProcess(profile: profile)
        // A snapshot that cannot be restored is refused before anything happens.
        var snapshot: (Snapshot, Snapshot.Manifest)? = nil
        if let snapshotName {
            if store.store == "etcd" { throw ClusterError("--snapshot starts a cluster on the SQLite store; it cannot go with --store etcd") }
            let found = try Snapshot(name: snapshotName, home: home)
            snapshot = (found, try found.verified())
        }
        if profile.exists, process.runningPID != nil {
            let config = try profile.loadConfig()
            var asked = config
            try choose(store, &asked, creating: false)
            if let (found, _) = snapshot { try await restoreSnapshot(found.name, profile: name) }
            // The running localkube serves what is renewed here from its next check (a minute).
            do { try SelfSignedPKI.renew(in: profile.pkiDirectory) } catch {
                throw ClusterError("cannot renew the certificates in \(profile.pkiDirectory.path): \(error)")
            }
            try configureKubectl(profile, config)
            say("✅  Cluster \"\(name)\" is already running on https://127.0.0.1:\(config.port)")
            return
        }
        // A kubeconfig we could not update later is refused before anything starts.
        _ = try kubeconfig.load()
        say("😄  cubby \(ControlPlane.version) on \(Self.platform)")
        var config: Profile.Config
        let creating = !profile.exists
        if creating {
            config = Profile.Config(name: name, port: requested ?? Self.defaultPort, cubbyVersion: ControlPlane.version)
            // A new profile from a snapshot is the saved cluster's shape: its nodes and driver.
            if let saved = snapshot?.0.config {
                config.nodes = saved.nodes
                config.driver = saved.driver
                config.sandboxImage = saved.sandboxImage
            }
        } else {
            config = try profile.loadConfig()
            if let requested { config.port = requested }
        }
        try choose(store, &config, creating: creating)
        // So is a store this cubby cannot open: nothing of the profile has been written yet.
        let olderFormat = config.usesEtcd ? nil : try checkStore(profile)
        if let nodes { config.nodes = nodes }
        if let sandboxImage { config.sandboxImage = sandboxImage }
        if let resolvConf { config.resolvConf = URL(fileURLWithPath: resolvConf).standardizedFileURL.path }
        // `auto` (asked for, or a new profile's default) is decided once and recorded; a driver
        // this machine cannot run is refused before anything of the profile is written.
        var choice: DriverChoice.Choice
        do {
            let asked = driver ?? (creating && config.driver == nil ? "auto" : config.driverName)
            // One node agent runs at a time among several control planes; the kubelet of real pods
            // is one per machine, so several control planes run simulated nodes.
            if config.controlPlaneCount > 1 {
                if asked == "containerd" { throw ClusterError("--control-planes above 1 runs simulated nodes; choose --driver simulated") }
                choice = try DriverChoice.resolve(asked == "auto" ? "simulated" : asked, nodes: config.nodeCount)
                if asked == "auto" { choice.reason = "\(config.controlPlaneCount) control planes share simulated nodes" }
            } else {
                choice = try DriverChoice.resolve(asked, nodes: config.nodeCount)
            }
        } catch let error as ClusterError {
            throw error
        } catch {
            throw ClusterError("\(error)")
        }
        config.driver = choice.driver.rawValue
        if creating { say("✨  Creating profile \"\(name)\" in \(profile.directory.path)") }
        if !choice.reason.isEmpty { say("✨  Using the \(choice.driver.rawValue) driver: \(choice.reason)") }
        try choosePort(&config, requested: requested != nil)
        if let (found, manifest) = snapshot { try await seed(profile, from: found, manifest, creating: creating) }
        try await launch(profile, config, migratingFrom: olderFormat)
        say("🏄  Done! kubectl is now configured to use \"\(name)\" cluster and \"default\" namespace by default")
    }

    /// The store of a new profile, or changes to an existing one's etcd settings; a profile's kind
    /// of store never changes (its objects would stay behind).
    func choose(_ request: StoreRequest, _ config: inout Profile.Config, creating: Bool) throws(ClusterError) {
        let kind = request.store ?? (creating ? "sqlite" : (config.store ?? "sqlite"))
        if !creating, kind != (config.store ?? "sqlite") {
            throw ClusterError("profile \"\(config.name)\" keeps its objects in \(config.store ?? "sqlite"); "
                               + "its store cannot change (cubby delete -p \(config.name) first)")
        }
        if kind == "etcd" {
            config.store = "etcd"
            var etcd = config.etcd ?? Profile.EtcdSettings()
            if let asked = request.etcd {
                etcd.servers = asked.servers ?? etcd.servers
                etcd.caFile = asked.caFile ?? etcd.caFile
                etcd.certFile = asked.certFile ?? etcd.certFile
                etcd.keyFile = asked.keyFile ?? etcd.keyFile
                etcd.prefix = asked.prefix ?? etcd.prefix
            }
            if etcd.ownServer, etcd.clientPort == nil {
                // etcd's own ports when free, as a kubeadm node has them.
                guard let client = PortCheck.isFree(2379) ? 2379 : PortCheck.nextFree(after: 2379),
                      let peer = PortCheck.nextFree(after: client) else { throw ClusterError("no free ports for etcd above 2379") }
                etcd.clientPort = client
                etcd.peerPort = peer
            }
            config.etcd = etcd
        } else if request.etcd != nil || (request.controlPlanes ?? 1) > 1 {
            throw ClusterError("--etcd-* and --control-planes need --store etcd")
        }
        if let n = request.controlPlanes { config.controlPlanes = n == 1 ? nil : n }
    }

    /// The recorded port if it is free; else a requested one is refused, and a remembered one
    /// gives way to the next free port.
    func choosePort(_ config: inout Profile.Config, requested: Bool) throws(ClusterError) {
        guard !PortCheck.isFree(config.port) else { return }
        if requested { throw ClusterError("port \(config.port) is already in use; choose another with --port") }
        guard let free = PortCheck.nextFree(after: config.port) else { throw ClusterError("no free port above \(config.port)") }
        say("🔀  Port \(config.port) is taken; using \(free)")
        config.port = free
    }

    /// Refuses a store this cubby cannot open (written by a newer cubby, or not a store at all),
    /// without writing to it; returns the format of an older store, which `launch` migrates.
    func checkStore(_ profile: Profile) throws(ClusterError) -> Int? {
        switch SQLiteStore.check(path: profile.storeURL.path) {
        case .absent, .current:
            return nil
        case .older(let format):
            return format
        case .newer(let format):
            throw ClusterError("profile \"\(profile.name)\": its store was written by a newer cubby (format \(format); "
                               + "this cubby reads up to \(SQLiteStore.formatVersion)); upgrade cubby")
        case .unreadable(let reason):
            throw ClusterError("profile \"\(profile.name)\": \(profile.storeURL.path) \(reason)")
        }
    }

    /// Migrates an older store, records this cubby in config.json, starts localkube, waits until
    /// it is ready and points kubectl at it.
    func launch(_ profile: Profile, _ config: Profile.Config, migratingFrom olderFormat: Int?) async throws(ClusterError) {
        var config = config
        if let olderFormat {
            say("📦  Migrating the store from format \(olderFormat) to \(SQLiteStore.formatVersion) ...")
            do { try SQLiteStore.migrate(path: profile.storeURL.path) } catch {
                throw ClusterError("profile \"\(profile.name)\": \(error)")
            }
        }
        config.cubbyVersion = ControlPlane.version
        try profile.save(config)

        if config.usesEtcd, let etcd = config.etcd {
            if etcd.ownServer {
                let process = EtcdProcess(profile: profile)
                if process.runningPID == nil {
                    say("🗄️   Starting etcd on https://127.0.0.1:\(etcd.clientPort ?? 2379) (data in \(profile.etcdDirectory.path)) ...")
                    try await process.start(etcd)
                }
            } else {
                say("🗄️   Store: etcd at \(etcd.servers ?? "")")
            }
        }
        say("🔥  Starting control plane (localkube) on https://127.0.0.1:\(config.port) ...")
        switch ControlPlane.Options.Driver(rawValue: config.driverName) {
        case .simulated?: say("🖥️   Nodes: \(config.nodeCount) simulated (pods run no processes)")
        case .containerd?: say("📦  Node: this machine; pods run as containers in the cluster's own containerd")
        default: break
        }
        let first = LocalkubeProcess(profile: profile)
        let pid = try first.start(executable: executable, config: config, port: config.port)
        say("⌛  Waiting for the API server to be ready ...")
        try await waitUntilReady(profile, first, port: config.port, pid: pid)
        // Further control planes: the first one's credentials, ports after its own.
        var port = config.port
        for n in stride(from: 2, through: config.controlPlaneCount, by: 1) {
            let process = LocalkubeProcess(profile: profile, instance: n)
            guard let free = PortCheck.nextFree(after: port) else { throw ClusterError("no free port above \(port)") }
            port = free
            try process.copyCredentials()
            say("🔥  Starting control plane \(n) of \(config.controlPlaneCount) on https://127.0.0.1:\(port) ...")
            let pid = try process.start(executable: executable, config: config, port: port)
            try await waitUntilReady(profile, process, port: port, pid: pid)
        }
        try configureKubectl(profile, config)
        say("🔗  Configured kubectl: context \"\(profile.name)\" in \(kubeconfig.url.path)")
    }

    // MARK: upgrade

    /// Restarts the cluster on this cubby binary: refuses a store or profile from a newer cubby
    /// before anything changes, stops the running localkube, migrates the store if its format
    /// is older, and starts again on the same port.
    public func upgrade(name: String) async throws(ClusterError) {
        let profile = try existing(name)
        let config = try profile.loadConfig()
        let from = config.cubbyVersion, to = ControlPlane.version
        if Self.compareVersions(from, to) > 0 {
            throw ClusterError("profile \"\(name)\" was last run by cubby v\(from), newer than this cubby (v\(to)); "
                               + "install cubby v\(from) or later")
        }
        let olderFormat = config.usesEtcd ? nil : try checkStore(profile)
        _ = try kubeconfig.load()
        if from == to {
            say("🔄  Restarting \"\(name)\" on cubby v\(to) (it already runs this version)")
        } else {
            say("🔄  Upgrading \"\(name)\" from v\(from) to v\(to)")
        }
        if LocalkubeProcess(profile: profile).runningPID != nil {
            say("✋  Stopping \"\(name)\" ...")
            _ = await stopProcesses(profile)
        }
        var restart = config
        try choosePort(&restart, requested: false)
        try await launch(profile, restart, migratingFrom: olderFormat)
        say("🏄  Done! \"\(name)\" now runs cubby v\(to)")
    }

    /// Compares dotted versions number by number ("0.10.0" > "0.9.1"); a missing part counts as 0.
    static func compareVersions(_ a: String, _ b: String) -> Int {
        func parts(_ v: String) -> [Int] {
            v.drop(while: { $0 == "v" }).split(separator: ".").map { Int($0.prefix(while: \.isNumber)) ?? 0 }
        }
        let x = parts(a), y = parts(b)
        for i in 0..<max(x.count, y.count) {
            let l = i < x.count ? x[i] : 0, r = i < y.count ? y[i] : 0
            if l != r { return l < r ? -1 : 1 }
        }
        return 0
    }

    func waitUntilReady(_ profile: Profile, _ process: LocalkubeProcess, port: Int, pid: pid_t) async throws(ClusterError) {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if LocalkubeProcess.hasExited(pid) {
                try? FileManager.default.removeItem(at: process.pidURL)
                throw ClusterError("localkube exited: \(Self.lastLine(of: process.logURL)) (log: \(process.logURL.path))")
            }
            if let ca = try? String(contentsOf: profile.caURL, encoding: .utf8),
               await ReadinessProbe.isReady(port: port, caPEM: ca) {
                return
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
        throw ClusterError("the API server was not ready within 30 s (log: \(process.logURL.path))")
    }

    func configureKubectl(_ profile: Profile, _ config: Profile.Config) throws(ClusterError) {
        guard let ca = try? String(contentsOf: profile.caURL, encoding: .utf8),
              let token = try? String(contentsOf: profile.tokenURL, encoding: .utf8) else {
            throw ClusterError("profile \"\(profile.name)\" has no credentials yet; run cubby start")
        }
        let pki = profile.pkiDirectory
        var certificate: (String, String)?
        if let cert = try? String(contentsOf: pki.appendingPathComponent("admin.crt"), encoding: .utf8),
           let key = try? String(contentsOf: pki.appendingPathComponent("admin.key"), encoding: .utf8) {
            certificate = (cert, key)
        }
        try kubeconfig.configure(.init(name: profile.name, server: Self.server(config), caPEM: ca, clientCertificate: certificate,
                                       token: token.trimmingCharacters(in: .whitespacesAndNewlines)))
    }

    static func server(_ config: Profile.Config) -> String { "https://127.0.0.1:\(config.port)" }

    // MARK: stop, delete

    public func stop(name: String) async throws(ClusterError) {
        let profile = try existing(name)
        say("✋  Stopping \"\(name)\" ...")
        if await stopProcesses(profile) {
            let nodes = (try? profile.loadConfig())?.nodeCount ?? 1
            say("🛑  \(nodes) node\(nodes == 1 ? "" : "s") stopped.")
        } else {
            say("🤷  \"\(name)\" is not running.")
        }
    }

    public func delete(name: String) async throws(ClusterError) {
        let profile = try existing(name)
        say("🔥  Deleting \"\(name)\" ...")
        _ = await stopProcesses(profile)
        // Whatever real pods left in the machine (a crash may have left containers running).
        await ContainerdNode.tearDown(RuntimeLayout(name: profile.name, dataDirectory: profile.directory), logger: Logger(label: "cubby"))
        try kubeconfig.remove(name: name)
        do { try FileManager.default.removeItem(at: profile.directory) } catch {
            throw ClusterError("cannot remove \(profile.directory.path): \(error.localizedDescription)")
        }
        say("💀  Removed all traces of the \"\(name)\" cluster.")
    }

    /// Every localkube of the profile (the further control planes first), then its own etcd;
    /// true when localkube was running.
    func stopProcesses(_ profile: Profile) async -> Bool {
        let count = (try? profile.loadConfig())?.controlPlaneCount ?? 1
        var stopped = false
        for n in stride(from: max(count, 1), through: 1, by: -1) {
            if await LocalkubeProcess(profile: profile, instance: n).stop() { stopped = true }
        }
        _ = await EtcdProcess(profile: profile).stop()
        return stopped
    }

    public func deleteAll() async throws(ClusterError) {
        for profile in Profile.all(home: home) { try await delete(name: profile.name) }
    }

    public func logURL(name: String) throws(ClusterError) -> URL { try existing(name).logURL }

    // MARK: status

    public struct Status: Codable, Sendable, Equatable {
        public var name: String
        public var host: String
        public var apiServer: String
        public var kubeconfig: String
        /// With credentials asked for: how to authenticate as the admin. Each is left out when
        /// the profile has no such file.
        public var user: String?
        public var password: String?
        public var token: String?
        public var clientCertificate: String?
        public var clientKey: String?
        /// When the first of the profile's certificates ends (renewed by `cubby start` or the
        /// running cluster within 30 days of it).
        public var certificatesExpire: Date?

        public var isHealthy: Bool { host == "Running" && apiServer == "Running" && kubeconfig == "Configured" }

        enum CodingKeys: String, CodingKey {
            case name = "Name", host = "Host", apiServer = "APIServer", kubeconfig = "Kubeconfig"
            case user = "User", password = "Password", token = "Token"
            case clientCertificate = "ClientCertificate", clientKey = "ClientKey"
            case certificatesExpire = "CertificatesExpire"
        }
    }

    public func status(name: String, credentials: Bool = false) async throws(ClusterError) -> Status {
        let profile = try existing(name)
        let config = try profile.loadConfig()
        let running = LocalkubeProcess(profile: profile).runningPID != nil
        var ready = false
        if running, let ca = try? String(contentsOf: profile.caURL, encoding: .utf8) {
            ready = await ReadinessProbe.isReady(port: config.port, caPEM: ca)
        }
        let configured = kubeconfig.isConfigured(name: name, server: Self.server(config))
        var status = Status(name: name, host: running ? "Running" : "Stopped", apiServer: ready ? "Running" : "Stopped",
                            kubeconfig: configured ? "Configured" : "Misconfigured")
        status.certificatesExpire = SelfSignedPKI.expiries(in: profile.pkiDirectory).first?.notValidAfter
        if credentials {
            if let admin = Self.adminPassword(profile.basicAuthURL) { (status.user, status.password) = admin }
            if let token = try? String(contentsOf: profile.tokenURL, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines),
               !token.isEmpty {
                status.token = token
            }
            let files = FileManager.default
            if files.fileExists(atPath: profile.adminCertificateURL.path) { status.clientCertificate = profile.adminCertificateURL.path }
            if files.fileExists(atPath: profile.adminKeyURL.path) { status.clientKey = profile.adminKeyURL.path }
        }
        return status
    }

    /// The admin's user and password: the first line of basic-auth.csv, `password,user,uid,"groups"`.
    static func adminPassword(_ url: URL) -> (user: String, password: String)? {
        guard let text = try? String(contentsOf: url, encoding: .utf8),
              let line = text.split(whereSeparator: \.isNewline).first(where: { !$0.allSatisfy(\.isWhitespace) }) else { return nil }
        let fields = csvFields(line)
        guard fields.count >= 2, !fields[0].isEmpty, !fields[1].isEmpty else { return nil }
        return (fields[1], fields[0])
    }

    /// The fields of one CSV line; a quoted field may hold commas and doubled quotes.
    static func csvFields(_ line: Substring) -> [String] {
        var fields: [String] = [], field = "", quoted = false
        var chars = Array(line)[...]
        while let c = chars.popFirst() {
            if quoted {
                if c == "\"" {
                    if chars.first == "\"" { field.append("\""); chars.removeFirst() } else { quoted = false }
                } else {
                    field.append(c)
                }
            } else if c == "\"" {
                quoted = true
            } else if c == "," {
                fields.append(field.trimmingCharacters(in: .whitespaces))
                field = ""
            } else {
                field.append(c)
            }
        }
        fields.append(field.trimmingCharacters(in: .whitespaces))
        return fields
    }

    // MARK: kubectl

    /// Runs the kubectl on PATH with the profile's context, in place of this process (its
    /// standard streams and exit status are kubectl's); returns only by throwing.
    public func kubectl(name: String, arguments: [String]) throws(ClusterError) -> Never {
        guard let path = Kubectl.find() else { throw ClusterError(Kubectl.notFound) }
        let profile = try existing(name)
        throw Kubectl.exec(path, context: profile.name, arguments: arguments)
    }

    // MARK: helpers

    static var platform: String {
        #if os(Linux)
        return "Linux"
        #else
        return "macOS"
        #endif
    }

    /// The log's last line, which for a localkube that gave up is its reason ("localkube: " dropped).
    static func lastLine(of url: URL) -> String {
        let text = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
        guard let line = text.split(whereSeparator: \.isNewline).last else { return "no output" }
        return String(line.hasPrefix("localkube: ") ? line.dropFirst("localkube: ".count) : line)
    }
}

/// Whether a loopback port can be listened on.
enum PortCheck {
    static func isFree(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    static func nextFree(after port: Int) -> Int? {
        (port + 1...min(port + 100, 65535)).first(where: isFree)
    }
}
