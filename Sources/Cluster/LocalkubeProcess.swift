import Foundation
import Localkube

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A background localkube of a profile, known by the pid file in its data folder. Control plane 1
/// runs in the profile's folder; on etcd, control planes 2, 3, ... each in a folder of their own
/// (`control-plane-N`) holding copies of the cluster's credentials.
public struct LocalkubeProcess: Sendable {
    public let profile: Profile
    public let instance: Int

    public init(profile: Profile, instance: Int = 1) {
        self.profile = profile
        self.instance = instance
    }

    var directory: URL { profile.controlPlaneDirectory(instance) }
    var pidURL: URL { directory.appendingPathComponent("localkube.pid") }
    public var logURL: URL { directory.appendingPathComponent("localkube.log") }

    /// The pid of a localkube that is alive, if the pid file names one.
    public var runningPID: pid_t? { Daemon.runningPID(pidURL) }

    /// Spawns `executable localkube --data-dir DIR --port PORT ...` in a new session.
    public func start(executable: String, config: Profile.Config, port: Int) throws(ClusterError) -> pid_t {
        var args = [executable, "localkube", "--data-dir", directory.path, "--port", String(port),
                    "--nodes", String(config.nodeCount), "--driver", config.driverName, "--name", profile.name]
        if let image = config.sandboxImage { args += ["--sandbox-image", image] }
        if let resolvConf = config.resolvConf { args += ["--resolv-conf", resolvConf] }
        if config.usesEtcd, let etcd = config.etcd {
            args += ["--store", "etcd"] + EtcdProcess(profile: profile).clientFlags(etcd)
        }
        return try Daemon.spawn(args, log: logURL, pidFile: pidURL, what: "localkube")
    }

    public static func hasExited(_ pid: pid_t) -> Bool { Daemon.hasExited(pid) }

    /// SIGTERM, then waits for the graceful shutdown (SIGKILL after `timeout`); removes the pid file.
    public func stop(timeout: Duration = .seconds(40)) async -> Bool {
        await Daemon.stop(pidFile: pidURL, timeout: timeout)
    }

    /// What a further control plane needs from the first to be the same cluster: its PKI (the
    /// same CA, serving key and service-account key), the admin token and the basic-auth users.
    func copyCredentials() throws(ClusterError) {
        let fm = FileManager.default
        let from = profile.directory
        do {
            try fm.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            for name in Profile.credentialFiles {
                let source = from.appendingPathComponent(name), target = directory.appendingPathComponent(name)
                guard fm.fileExists(atPath: source.path) else { continue }
                try? fm.removeItem(at: target)
                try fm.copyItem(at: source, to: target)
            }
        } catch {
            throw ClusterError("cannot prepare \(directory.path): \(error.localizedDescription)")
        }
    }
}
