import Foundation
import Localkube
import Storage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The single-member etcd of a profile started with `--store etcd` and no servers: Debian's
/// etcd-server, on loopback ports kept in the profile, its data under `etcd/`, serving TLS with a
/// certificate of the cluster's CA and accepting only clients with one (as kubeadm runs etcd).
/// Started before localkube, stopped after it, removed with the profile.
public struct EtcdProcess: Sendable {
    public let profile: Profile

    public init(profile: Profile) { self.profile = profile }

    var pidURL: URL { profile.etcdDirectory.appendingPathComponent("etcd.pid") }
    public var logURL: URL { profile.etcdDirectory.appendingPathComponent("etcd.log") }
    var pki: URL { profile.pkiDirectory }

    public var runningPID: pid_t? { Daemon.runningPID(pidURL) }

    /// localkube's flags for the profile's etcd: the servers given, or its own with the client
    /// certificate made for it.
    func clientFlags(_ etcd: Profile.EtcdSettings) -> [String] {
        var flags: [String] = []
        if let servers = etcd.servers {
            flags += ["--etcd-servers", servers]
            if let ca = etcd.caFile { flags += ["--etcd-cafile", ca] }
            if let cert = etcd.certFile { flags += ["--etcd-certfile", cert] }
            if let key = etcd.keyFile { flags += ["--etcd-keyfile", key] }
        } else {
            flags += ["--etcd-servers", "https://127.0.0.1:\(etcd.clientPort ?? 2379)",
                      "--etcd-cafile", pki.appendingPathComponent("ca.crt").path,
                      "--etcd-certfile", pki.appendingPathComponent("apiserver-etcd-client.crt").path,
                      "--etcd-keyfile", pki.appendingPathComponent("apiserver-etcd-client.key").path]
        }
        if let prefix = etcd.prefix { flags += ["--etcd-prefix", prefix] }
        return flags
    }

    /// Starts etcd (making its certificates on first use) and waits until it takes connections.
    public func start(_ etcd: Profile.EtcdSettings) async throws(ClusterError) {
        guard let clientPort = etcd.clientPort, let peerPort = etcd.peerPort else {
            throw ClusterError("profile \"\(profile.name)\" records no ports for its etcd")
        }
        guard let binary = Self.binary() else {
            throw ClusterError("etcd is not installed: apt-get install etcd-server (or give --etcd-servers)")
        }
        let files: EtcdCertificates.Files
        do {
            try FileManager.default.createDirectory(at: profile.etcdDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            files = try EtcdCertificates.ensure(in: pki)
        } catch {
            throw ClusterError("cannot make etcd's certificates: \(error)")
        }
        let client = "https://127.0.0.1:\(clientPort)", peer = "http://127.0.0.1:\(peerPort)"
        let args = [binary, "--name", "cubby", "--data-dir", profile.etcdDirectory.appendingPathComponent("data").path,
                    "--listen-client-urls", client, "--advertise-client-urls", client,
                    "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, "--initial-cluster", "cubby=\(peer)",
                    "--cert-file", files.serverCertificate, "--key-file", files.serverKey,
                    "--client-cert-auth", "--trusted-ca-file", files.ca,
                    // Heartbeats of a member alone need no network slack.
                    "--heartbeat-interval", "100", "--election-timeout", "1000", "--log-level", "warn"]
        let pid = try Daemon.spawn(args, log: logURL, pidFile: pidURL, what: "etcd")
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            if Daemon.hasExited(pid) {
                try? FileManager.default.removeItem(at: pidURL)
                throw ClusterError("etcd exited: \(ClusterLifecycle.lastLine(of: logURL)) (log: \(logURL.path))")
            }
            if !PortCheck.isFree(clientPort) { return }
            try? await Task.sleep(for: .milliseconds(20))
        }
        throw ClusterError("etcd did not listen on \(client) within 20 s (log: \(logURL.path))")
    }

    public func stop() async -> Bool {
        await Daemon.stop(pidFile: pidURL, timeout: .seconds(20))
    }

    /// etcd on PATH or where Debian installs it.
    static func binary() -> String? {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "") + ":/usr/bin:/usr/sbin"
        for dir in path.split(separator: ":") where FileManager.default.isExecutableFile(atPath: "\(dir)/etcd") {
            return "\(dir)/etcd"
        }
        return nil
    }
}
