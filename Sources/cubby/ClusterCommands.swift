import ArgumentParser
import Cluster
import Foundation
import Localkube

/// Shared by the lifecycle commands: the profile flag, step output and one-line errors.
struct ProfileOption: ParsableArguments {
    @Option(name: [.short, .long], help: "The profile (cluster) to act on.")
    var profile: String = Profile.defaultName
}

enum CLI {
    static func lifecycle() -> ClusterLifecycle {
        ClusterLifecycle(executable: executablePath, say: { line in
            FileHandle.standardOutput.write(Data((line + "\n").utf8))
        })
    }

    /// This binary, which also runs `localkube`.
    static var executablePath: String {
        #if os(Linux)
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return path }
        #endif
        return URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
    }

    /// Runs a step; a ClusterError is one line on stderr and exit status 1.
    static func run(_ body: () async throws(ClusterError) -> Void) async throws {
        do { try await body() } catch {
            FileHandle.standardError.write(Data("❌  \(error.description)\n".utf8))
            throw ExitCode.failure
        }
    }
}

struct StartCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "start",
        abstract: "Start a cluster (creating it on first use) and point kubectl at it.")

    @OptionGroup var options: ProfileOption

    @Option(help: "HTTPS port of the API server (default 8443, or the next free one).")
    var port: Int?

    @Option(help: "How many nodes the cluster has (default 1; kept in the profile).")
    var nodes: Int?

    @Option(help: "What runs the pods: auto (the default: containerd where it can run, else simulated), containerd (real containers on this machine), simulated (no processes, as kwok) or none (control plane only). Kept in the profile.")
    var driver: String?

    @Option(name: .customLong("sandbox-image"), help: "The pod sandbox (pause) image of the containerd driver (made offline when it cannot be pulled).")
    var sandboxImage: String?

    @Option(name: .customLong("resolv-conf"), help: "The resolv.conf whose nameservers the cluster DNS forwards other names to (default /etc/resolv.conf; kept in the profile).")
    var resolvConf: String?

    @OptionGroup(title: "Store") var store: StoreOptions

    @Option(name: .customLong("control-planes"), help: "How many API servers (localkube processes, each on its own port) serve the cluster; above 1 needs --store etcd, and their controllers, scheduler and node agent take turns by leader election.")
    var controlPlanes: Int?

    @Option(help: "Start from a snapshot's objects (cubby snapshot ls): a new profile takes its nodes, driver and, when it has them, credentials.")
    var snapshot: String?

    func validate() throws {
        try store.validate()
        if let controlPlanes, !(1...7).contains(controlPlanes) { throw ValidationError("--control-planes must be between 1 and 7") }
        if let driver, !DriverChoice.names.contains(driver) {
            throw ValidationError("--driver must be one of \(DriverChoice.names.joined(separator: ", "))")
        }
        if let port, !(1...65535).contains(port) { throw ValidationError("--port must be between 1 and 65535") }
        if let nodes, !(0...1000).contains(nodes) { throw ValidationError("--nodes must be between 0 and 1000") }
    }

    func run() async throws {
        try await CLI.run { () async throws(ClusterError) in
            try await CLI.lifecycle().start(name: options.profile, port: port, nodes: nodes, driver: driver, sandboxImage: sandboxImage,
                                                resolvConf: resolvConf, store: store.request(controlPlanes: controlPlanes), snapshot: snapshot)
        }
    }
}

struct StopCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stop", abstract: "Stop a cluster, keeping every object.")

    @OptionGroup var options: ProfileOption

    func run() async throws {
        try await CLI.run { () async throws(ClusterError) in try await CLI.lifecycle().stop(name: options.profile) }
    }
}

struct DeleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete",
        abstract: "Delete a cluster: its process, its folder and its kubeconfig entries.")

    @OptionGroup var options: ProfileOption

    @Flag(help: "Delete every profile.")
    var all = false

    func run() async throws {
        try await CLI.run { () async throws(ClusterError) in
            if all { try await CLI.lifecycle().deleteAll() } else { try await CLI.lifecycle().delete(name: options.profile) }
        }
    }
}

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status",
        abstract: "Show whether the cluster's process, API server and kubeconfig are in order (exit 7 if not).")

    @OptionGroup var options: ProfileOption

    @Option(name: [.short, .long], help: "Output format: text or json.")
    var output: String = "text"

    @Flag(help: "Also show how to authenticate as the admin: user and password, bearer token, client certificate.")
    var credentials = false

    func validate() throws {
        guard ["text", "json"].contains(output) else { throw ValidationError("--output must be text or json") }
    }

    func run() async throws {
        var status: ClusterLifecycle.Status?
        try await CLI.run { () async throws(ClusterError) in status = try await CLI.lifecycle().status(name: options.profile, credentials: credentials) }
        guard let status else { return }
        if output == "json" {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            encoder.dateEncodingStrategy = .iso8601
            let data = (try? encoder.encode(status)) ?? Data()
            print(String(decoding: data, as: UTF8.self))
        } else {
            var lines = [status.name, "type: Control Plane", "host: \(status.host)", "apiserver: \(status.apiServer)",
                         "kubeconfig: \(status.kubeconfig)"]
            if let ends = status.certificatesExpire {
                let days = Int(ends.timeIntervalSinceNow / 86400)
                lines.append("certificates: valid until \(ends.formatted(.iso8601)) (\(days) days)")
            }
            let secrets = [("user", status.user), ("password", status.password), ("token", status.token),
                           ("client-certificate", status.clientCertificate), ("client-key", status.clientKey)]
            lines += secrets.compactMap { key, value in value.map { "\(key): \($0)" } }
            print(lines.joined(separator: "\n") + "\n")
        }
        if !status.isHealthy { throw ExitCode(7) }
    }
}
