import ArgumentParser
import Foundation
import Localkube
import Nodes

@main
struct Cubby: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cubby",
        abstract: "A local Kubernetes cluster in one process.",
        version: ControlPlane.version,
        subcommands: [StartCommand.self, StopCommand.self, DeleteCommand.self, StatusCommand.self, UpgradeCommand.self,
                      KubectlCommand.self, SnapshotCommand.self, ImageCommand.self, LogsCommand.self, ServiceCommand.self, IPCommand.self, ProfileCommand.self, CompletionCommand.self, VersionCommand.self,
                      LocalkubeCommand.self])
}

struct LocalkubeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "localkube",
        abstract: "Run the control plane in the foreground until SIGTERM or SIGINT.")

    @Option(name: .customLong("data-dir"), help: "Folder for the store, certificates and the admin kubeconfig.")
    var dataDir: String

    @Option(help: "HTTPS port of the API server.")
    var port: Int = 8443

    @Option(help: "Address the API server listens on.")
    var bind: String = "127.0.0.1"

    @Option(name: .customLong("compaction-interval"), help: "Seconds between compactions of the store's history.")
    var compactionInterval: Double = 300

    @Option(help: "How many nodes to register.")
    var nodes: Int = 1

    @Option(help: "What runs the nodes' pods: auto (containerd where it can, else simulated), containerd (real containers), simulated (no processes) or none (control plane only).")
    var driver: String = "auto"

    @Option(help: "The cluster's name: its node's, and its bridge's and containerd's on this machine.")
    var name: String = "cubby"

    @Option(name: .customLong("sandbox-image"), help: "The pod sandbox (pause) image of the containerd driver; made offline when it cannot be pulled.")
    var sandboxImage: String = SandboxImage.standard

    @Option(name: .customLong("node-monitor-grace-period"), help: "Seconds a node may miss heartbeats before it is NotReady.")
    var nodeMonitorGracePeriod: Double = 40

    @Option(name: .customLong("horizontal-pod-autoscaler-sync-period"), help: "Seconds between evaluations of each HorizontalPodAutoscaler.")
    var autoscalerSyncPeriod: Double = 15

    @Option(name: .customLong("dns-port"), help: "Port of the cluster DNS: on the node's address with real pods (default 53); else on 127.0.0.1 (default any free port).")
    var dnsPort: Int?

    @Option(name: .customLong("resolv-conf"), help: "The resolv.conf whose nameservers the cluster DNS forwards names outside the cluster to.")
    var resolvConf: String = "/etc/resolv.conf"

    @OptionGroup var store: StoreOptions

    @OptionGroup var serving: ServingOptions

    func validate() throws {
        try store.validate()
        try serving.validate()
        guard (0...1000).contains(nodes) else { throw ValidationError("--nodes must be between 0 and 1000") }
        guard nodeMonitorGracePeriod > 0 else { throw ValidationError("--node-monitor-grace-period must be positive") }
        guard autoscalerSyncPeriod > 0 else { throw ValidationError("--horizontal-pod-autoscaler-sync-period must be positive") }
        guard (1...65535).contains(port) else { throw ValidationError("--port must be between 1 and 65535") }
        if let dnsPort { guard (0...65535).contains(dnsPort) else { throw ValidationError("--dns-port must be between 0 and 65535") } }
        guard compactionInterval > 0 else { throw ValidationError("--compaction-interval must be positive") }
        guard DriverChoice.names.contains(driver) else { throw ValidationError("--driver must be one of \(DriverChoice.names.joined(separator: ", "))") }
    }

    func run() async throws {
        do {
            let choice = try DriverChoice.resolve(driver, nodes: nodes)
            if !choice.reason.isEmpty { print("localkube: driver \(choice.driver.rawValue): \(choice.reason)") }
            var options = ControlPlane.Options(
                dataDirectory: URL(fileURLWithPath: dataDir, isDirectory: true), port: port, bindAddress: bind,
                compactionInterval: .milliseconds(Int64(compactionInterval * 1000)), clusterName: name, nodes: nodes, driver: choice.driver,
                nodeMonitorGracePeriod: .milliseconds(Int64(nodeMonitorGracePeriod * 1000)), sandboxImage: sandboxImage,
                dnsPort: dnsPort, resolvConf: resolvConf, store: try store.choice())
            options.limits = serving.limits
            options.autoscalerSyncPeriod = .milliseconds(Int64(autoscalerSyncPeriod * 1000))
            try await ControlPlane(options: options).run()
        } catch {
            FileHandle.standardError.write(Data("localkube: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}

extension ControlPlane.Options.Driver: ExpressibleByArgument {}
