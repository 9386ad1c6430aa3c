import CRI
import Client
import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The node of a cluster whose pods are real: the host itself, with the cluster's own pod
/// network and containerd. `start` brings them up (before the API server, which also listens on
/// the bridge so pods reach it); `stop` stops every pod, then containerd, then removes the
/// bridge; `tearDown` also clears what a crash left (sandboxes, shims, mounts, rules, cgroups)
/// for `cubby delete`.
public final class ContainerdNode: Sendable {
    public let layout: RuntimeLayout
    public let network: PodNetwork
    let containerd: Containerd
    let requirements: RuntimeRequirements
    let sandboxImage: String
    public let runtime: RuntimeConnection

    init(layout: RuntimeLayout, network: PodNetwork, containerd: Containerd, requirements: RuntimeRequirements,
         sandboxImage: String, runtime: RuntimeConnection) {
        self.layout = layout
        self.network = network
        self.containerd = containerd
        self.requirements = requirements
        self.sandboxImage = sandboxImage
        self.runtime = runtime
    }

    public static func start(_ layout: RuntimeLayout, sandboxImage: String, logger: Logger) async throws -> ContainerdNode {
        let requirements = try RuntimeRequirements.check().get()
        let network = try PodNetwork.claim(layout)
        try await network.setUp()
        let containerd = Containerd(layout: layout, requirements: requirements, sandboxImage: sandboxImage, logger: logger)
        let runtime: RuntimeConnection
        do { runtime = try await containerd.start() } catch {
            await containerd.stop()
            await network.tearDown()
            throw error
        }
        return ContainerdNode(layout: layout, network: network, containerd: containerd, requirements: requirements,
                              sandboxImage: sandboxImage, runtime: runtime)
    }

    public func kubelet(client: Client, informers: InformerFactory, nodeName: String, kubeletVersion: String,
                        tokens: @escaping TokenIssuer, logger: Logger) -> Kubelet {
        Kubelet(configuration: .init(nodeName: nodeName, network: network.network, layout: layout, kubeletVersion: kubeletVersion,
                                     sandboxImage: sandboxImage, ctr: requirements.ctr),
                client: client, informers: informers, runtime: runtime, tokens: tokens, logger: logger)
    }

    /// `cubby stop`: the kubelet has stopped every pod; containerd and the bridge go too.
    public func stop() async {
        await containerd.stop()
        await network.tearDown()
        Self.removeCgroups(layout)
    }

    /// Everything of the cluster's runtime gone from the machine, whatever state a crash left:
    /// sandboxes removed through a containerd started for the purpose, leftover shims killed,
    /// mounts detached, the bridge and CNI's rules removed, cgroups and /run/cubby/NAME deleted.
    /// Images and the data folder itself are the caller's to remove.
    public static func tearDown(_ layout: RuntimeLayout, logger: Logger) async {
        if FileManager.default.fileExists(atPath: layout.configURL.path), case .success(let requirements) = RuntimeRequirements.check() {
            let containerd = Containerd(layout: layout, requirements: requirements, sandboxImage: SandboxImage.standard, logger: logger)
            if let runtime = try? await containerd.start() {
                let sandboxes = (try? await runtime.runtime.listPodSandbox(.init()).items) ?? []
                for sandbox in sandboxes { await runtime.removeSandbox(sandbox.id, layout: layout) }
                await containerd.stop()
            }
        }
        killShims(layout)
        VolumeManager.unmountAll(under: layout.runDirectory.path)
        VolumeManager.unmountAll(under: layout.dataDirectory.standardizedFileURL.path)
        if let network = PodNetwork.recorded(layout) { await network.tearDown() }
        removeCgroups(layout)
        try? FileManager.default.removeItem(at: layout.runDirectory)
        rmdir(RuntimeLayout.runRoot.path)  // only once no other cluster uses it
    }

    /// Shims still serving this cluster's containerd (its socket is on their command line).
    static func killShims(_ layout: RuntimeLayout) {
        #if os(Linux)
        let pids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc"))?.compactMap { Int32($0) } ?? []
        for pid in pids {
            guard let cmdline = try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8),
                  cmdline.hasPrefix("/usr/bin/containerd-shim") || cmdline.contains("containerd-shim"),
                  cmdline.contains(layout.socketPath) else { continue }
            kill(pid, SIGKILL)
        }
        #endif
    }

    /// The cluster's cgroup tree, in every hierarchy, deepest first (empty cgroups only: the
    /// kernel refuses the others).
    static func removeCgroups(_ layout: RuntimeLayout) {
        #if os(Linux)
        let root = "/sys/fs/cgroup"
        let hierarchies = [root] + ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).map { "\(root)/\($0)" }
        for hierarchy in hierarchies {
            let top = hierarchy + layout.cgroupParent
            guard FileManager.default.fileExists(atPath: top) else { continue }
            var dirs = [top]
            if let walker = FileManager.default.enumerator(atPath: top) {
                while let path = walker.nextObject() as? String {
                    var isDirectory: ObjCBool = false
                    if FileManager.default.fileExists(atPath: "\(top)/\(path)", isDirectory: &isDirectory), isDirectory.boolValue {
                        dirs.append("\(top)/\(path)")
                    }
                }
            }
            for dir in dirs.sorted(by: { $0.count > $1.count }) { rmdir(dir) }
        }
        #endif
    }
}
