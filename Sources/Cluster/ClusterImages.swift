import CRI
import Foundation
import Localkube
import Nodes

/// `cubby image load|ls|rm`, in minikube's shape: images of a running cluster's containerd, so
/// pods use them without a registry.
public struct ClusterImages: Sendable {
    let lifecycle: ClusterLifecycle

    public init(lifecycle: ClusterLifecycle) { self.lifecycle = lifecycle }

    /// The running cluster's runtime, or a one-line reason there is none.
    func runtime(_ name: String) throws(ClusterError) -> (layout: RuntimeLayout, requirements: RuntimeRequirements) {
        let profile = try lifecycle.existing(name)
        let config = try profile.loadConfig()
        guard config.driverName == ControlPlane.Options.Driver.containerd.rawValue else {
            throw ClusterError("profile \"\(name)\" runs the \(config.driverName) driver: images need the containerd driver (cubby start --driver containerd)")
        }
        guard LocalkubeProcess(profile: profile).runningPID != nil else {
            throw ClusterError("profile \"\(name)\" is not running; start it with: cubby start -p \(name)")
        }
        switch RuntimeRequirements.check() {
        case .success(let requirements): return (RuntimeLayout(name: name, dataDirectory: profile.directory), requirements)
        case .failure(let missing): throw ClusterError(missing.description)
        }
    }

    /// Loads an OCI or `docker save` archive; `-` reads it from standard input.
    public func load(_ path: String, profile: String) async throws(ClusterError) {
        let (layout, requirements) = try runtime(profile)
        var file = path
        var spooled: URL?
        if path == "-" {
            let url = layout.runDirectory.appendingPathComponent("load-\(UUID().uuidString).tar")
            guard FileManager.default.createFile(atPath: url.path, contents: nil, attributes: [.posixPermissions: 0o600]),
                  let out = try? FileHandle(forWritingTo: url) else { throw ClusterError("cannot write \(url.path)") }
            while let chunk = try? FileHandle.standardInput.read(upToCount: 1 << 20), !chunk.isEmpty { out.write(chunk) }
            try? out.close()
            file = url.path
            spooled = url
        } else if !FileManager.default.fileExists(atPath: path) {
            throw ClusterError("\(path): no such file")
        }
        defer { if let spooled { try? FileManager.default.removeItem(at: spooled) } }
        do { try await ImageArchive.load(file, socket: layout.socketPath, ctr: requirements.ctr) } catch {
            throw ClusterError("cannot load \(path): \(error)")
        }
    }

    /// The images' names, as `minikube image ls` prints them.
    public func list(profile: String) async throws(ClusterError) -> [String] {
        let (layout, _) = try runtime(profile)
        do {
            let connection = try RuntimeConnection(socketPath: layout.socketPath)
            defer { connection.close() }
            let images = try await connection.images.listImages(.init()).images
            return images.flatMap { $0.repoTags.isEmpty ? $0.repoDigests.prefix(1).map { $0 } : $0.repoTags }.sorted()
        } catch {
            throw ClusterError("cannot list the images of \"\(profile)\": \(error)")
        }
    }

    public func remove(_ names: [String], profile: String) async throws(ClusterError) {
        let (layout, _) = try runtime(profile)
        do {
            let connection = try RuntimeConnection(socketPath: layout.socketPath)
            defer { connection.close() }
            for name in names {
                let status = try await connection.images.imageStatus(.with { $0.image.image = name })
                guard status.hasImage else { throw ClusterError("image \"\(name)\" not found in \"\(profile)\"") }
                _ = try await connection.images.removeImage(.with { $0.image.image = name })
            }
        } catch let error as ClusterError {
            throw error
        } catch {
            throw ClusterError("cannot remove \(names.joined(separator: ", ")): \(error)")
        }
    }
}
