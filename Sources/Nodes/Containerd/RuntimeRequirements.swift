import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the containerd driver needs from the machine, found or named as missing: Linux, root,
/// containerd (with ctr), runc, the CNI plugins, iptables, ip and nft (the service proxy's rules). `scripts/install-runtime.sh`
/// installs them from Debian/Ubuntu packages.
public struct RuntimeRequirements: Sendable {
    public static let installCommand = "sudo scripts/install-runtime.sh"
    static let cniPlugins = ["bridge", "host-local", "portmap", "loopback"]
    static let cniDirectories = ["/usr/lib/cni", "/opt/cni/bin", "/usr/libexec/cni"]

    public var containerd: String
    public var ctr: String
    public var cniBinDirectory: String

    /// The tools found, or why this machine cannot run real pods (one line).
    public static func check() -> Result<RuntimeRequirements, Missing> {
        #if os(Linux)
        guard geteuid() == 0 else { return .failure(Missing(reason: "the containerd driver needs root")) }
        var missing: [String] = []
        let containerd = HostCommand.find("containerd"), ctr = HostCommand.find("ctr")
        for (name, path) in [("containerd", containerd), ("ctr", ctr), ("runc", HostCommand.find("runc")),
                             ("iptables", HostCommand.find("iptables")), ("ip", HostCommand.find("ip")),
                             ("nft", HostCommand.find("nft"))] where path == nil {
            missing.append(name)
        }
        let cni = cniDirectories.first { dir in cniPlugins.allSatisfy { FileManager.default.isExecutableFile(atPath: "\(dir)/\($0)") } }
        if cni == nil { missing.append("the CNI plugins") }
        guard missing.isEmpty, let containerd, let ctr, let cni else {
            return .failure(Missing(reason: "\(missing.joined(separator: ", ")) not found; install with: \(installCommand)"))
        }
        return .success(RuntimeRequirements(containerd: containerd, ctr: ctr, cniBinDirectory: cni))
        #else
        return .failure(Missing(reason: "the containerd driver needs Linux"))
        #endif
    }

    public struct Missing: Error, CustomStringConvertible {
        public let reason: String
        public var description: String { reason }
    }
}
