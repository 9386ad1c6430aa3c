import CRI
import Foundation
import Logging
import Subprocess

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The cluster's own containerd: configured under the cluster's folders, started by localkube,
/// restarted if it dies, and stopped with the cluster. Its containers live on in their shims
/// when containerd or localkube stop abruptly; the next containerd finds them again.
public actor Containerd {
    public let layout: RuntimeLayout
    let requirements: RuntimeRequirements
    let sandboxImage: String
    let logger: Logger
    var supervisor: Task<Void, Never>?
    public private(set) var connection: RuntimeConnection?

    public init(layout: RuntimeLayout, requirements: RuntimeRequirements, sandboxImage: String, logger: Logger) {
        self.layout = layout
        self.requirements = requirements
        self.sandboxImage = sandboxImage
        self.logger = logger
    }

    /// Writes the configuration, ends a containerd an earlier localkube left running, starts a
    /// new one and waits until its CRI answers.
    public func start() async throws -> RuntimeConnection {
        let files = FileManager.default
        for dir in [layout.rootPath, layout.cniConfigPath, layout.podLogsDirectory.path, layout.podsDirectory.path] {
            try files.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        let config = ContainerdConfig(layout: layout, sandboxImage: sandboxImage, cniBinDirectory: requirements.cniBinDirectory)
        try Data(config.toml.utf8).write(to: layout.configURL, options: .atomic)
        await Self.stopLeftover(layout)
        try? FileManager.default.removeItem(atPath: layout.socketPath)

        let log = open(layout.logURL.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard log >= 0 else { throw PodNetwork.ClaimError(description: "cannot open \(layout.logURL.path)") }
        close(log)
        supervisor = Task { [layout, requirements, logger] in
            while !Task.isCancelled {
                let started = ContinuousClock.now
                let status = await Self.runOnce(layout, containerd: requirements.containerd)
                if Task.isCancelled { break }
                logger.warning("containerd exited (\(status)); restarting it (log: \(layout.logURL.path))")
                // A containerd that cannot stay up is not restarted in a hot loop.
                if ContinuousClock.now - started < .seconds(5) { try? await Task.sleep(for: .seconds(2)) }
            }
        }
        // Connect once the socket is there: a gRPC connection refused at first waits a back-off
        // (a second) before it tries again.
        let deadline = ContinuousClock.now + .seconds(30)
        while !FileManager.default.fileExists(atPath: layout.socketPath), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        let connection = try RuntimeConnection(socketPath: layout.socketPath)
        while true {
            do {
                _ = try await connection.runtime.version(.with { $0.version = "v1" })
                break
            } catch {
                if ContinuousClock.now > deadline {
                    throw PodNetwork.ClaimError(description: "containerd did not answer within 30 s (log: \(layout.logURL.path))")
                }
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        self.connection = connection
        return connection
    }

    /// Runs containerd until it exits (or, when the task is cancelled, until SIGTERM ends it).
    static func runOnce(_ layout: RuntimeLayout, containerd: String) async -> String {
        let log = open(layout.logURL.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard log >= 0 else { return "cannot open its log" }
        var options = PlatformOptions()
        options.teardownSequence = [.gracefulShutDown(allowedDurationToNextStep: .seconds(10))]
        // Its own process group: a Ctrl-C meant for a foreground localkube reaches containerd
        // only through localkube's orderly stop.
        options.processGroupID = 0
        do {
            let result = try await Subprocess.run(
                .path(.init(containerd)), arguments: ["--config", layout.configURL.path], platformOptions: options,
                input: .none, output: .fileDescriptor(.init(rawValue: log), closeAfterSpawningProcess: true),
                error: .combinedWithOutput
            ) { execution in
                try? Data("\(execution.processIdentifier.value)\n".utf8).write(to: layout.pidURL, options: .atomic)
            }
            return "\(result.terminationStatus)"
        } catch {
            close(log)
            return "\(error)"
        }
    }

    /// Ends the containerd, SIGTERM then SIGKILL after 10 s; the containers' shims live on.
    public func stop() async {
        connection?.close()
        connection = nil
        if let supervisor {
            supervisor.cancel()
            await supervisor.value
        }
        supervisor = nil
        try? FileManager.default.removeItem(at: layout.pidURL)
    }

    /// A containerd of this cluster still running from a localkube that was killed: stopped, so
    /// the new one starts from the same state (its shims, and so the containers, keep running).
    static func stopLeftover(_ layout: RuntimeLayout) async {
        guard let text = try? String(contentsOf: layout.pidURL, encoding: .utf8),
              let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0,
              let cmdline = try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8),
              cmdline.contains(layout.configURL.path) else { return }
        kill(pid, SIGTERM)
        for _ in 0..<1000 where kill(pid, 0) == 0 { try? await Task.sleep(for: .milliseconds(10)) }
        if kill(pid, 0) == 0 { kill(pid, SIGKILL) }
    }
}
