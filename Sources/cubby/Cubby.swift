import ArgumentParser
import Foundation
import Localkube

@main
struct Cubby: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cubby",
        abstract: "A local Kubernetes cluster in one process.",
        version: ControlPlane.version,
        subcommands: [StartCommand.self, StopCommand.self, DeleteCommand.self, StatusCommand.self, UpgradeCommand.self,
                      KubectlCommand.self, LogsCommand.self, ProfileCommand.self, CompletionCommand.self, VersionCommand.self,
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

    func validate() throws {
        guard (1...65535).contains(port) else { throw ValidationError("--port must be between 1 and 65535") }
        guard compactionInterval > 0 else { throw ValidationError("--compaction-interval must be positive") }
    }

    func run() async throws {
        let options = ControlPlane.Options(
            dataDirectory: URL(fileURLWithPath: dataDir, isDirectory: true), port: port, bindAddress: bind,
            compactionInterval: .milliseconds(Int64(compactionInterval * 1000)))
        do {
            try await ControlPlane(options: options).run()
        } catch {
            FileHandle.standardError.write(Data("localkube: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}
