import Foundation
import Localkube
import NIOHTTP1
import Storage

/// `cubby snapshot save|restore|ls|rm` and `cubby start --snapshot`: a profile's objects saved
/// as of one revision and put back, running or stopped. Every refusal comes before anything is
/// changed; the profile's own credentials are never replaced by a snapshot's.
extension ClusterLifecycle {
    public func saveSnapshot(_ name: String, profile profileName: String, includeCredentials: Bool, force: Bool) throws(ClusterError) {
        let snapshot = try Snapshot(name: name, home: home)
        let profile = try existing(profileName)
        let config = try profile.loadConfig()
        try requireSQLite(config)
        if snapshot.exists, !force {
            throw ClusterError("snapshot \"\(name)\" already exists; remove it with \"cubby snapshot rm \(name)\" or save with --force")
        }
        let files = FileManager.default
        let folder = Snapshot.folder(home)
        let staging = folder.appendingPathComponent(".\(name).saving-\(UUID().uuidString)", isDirectory: true)
        defer { try? files.removeItem(at: staging) }
        do {
            try files.createDirectory(at: staging, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw ClusterError("cannot write \(folder.path): \(error.localizedDescription)")
        }
        let contents: SQLiteStore.SnapshotContents
        do {
            contents = try SQLiteStore.saveSnapshot(of: profile.storeURL.path, to: staging.appendingPathComponent("state.db").path)
        } catch {
            throw ClusterError("cannot save profile \"\(profile.name)\": \(error)")
        }
        let copies = ["config.json"] + (includeCredentials ? Profile.credentialFiles : [])
        do {
            for file in copies where files.fileExists(atPath: profile.directory.appendingPathComponent(file).path) {
                try files.copyItem(at: profile.directory.appendingPathComponent(file), to: staging.appendingPathComponent(file))
            }
        } catch {
            throw ClusterError("cannot copy the profile's files into the snapshot: \(error.localizedDescription)")
        }
        let digest = Snapshot.sha256(of: staging.appendingPathComponent("state.db")) ?? ""
        let manifest = Snapshot.Manifest(format: Snapshot.format, cubbyVersion: ControlPlane.version, storeFormat: contents.format,
                                         revision: contents.revision, objects: contents.objects, created: Date(),
                                         profile: profile.name, sha256: digest, credentials: includeCredentials)
        do {
            try AtomicFile.write(String(decoding: try Snapshot.encoder.encode(manifest), as: UTF8.self) + "\n",
                                 to: staging.appendingPathComponent("manifest.json"), mode: 0o600)
            // The finished folder takes the name in one rename; a replaced one goes after it.
            var replaced: URL? = nil
            if snapshot.exists {
                replaced = folder.appendingPathComponent(".\(name).replaced-\(UUID().uuidString)")
                try files.moveItem(at: snapshot.directory, to: replaced!)
            }
            try files.moveItem(at: staging, to: snapshot.directory)
            if let replaced { try? files.removeItem(at: replaced) }
        } catch {
            throw ClusterError("cannot write snapshot \"\(name)\": \(error.localizedDescription)")
        }
        say("📸  Saved snapshot \"\(name)\" of \"\(profile.name)\": \(contents.objects) objects at resourceVersion \(contents.revision)"
            + (includeCredentials ? ", with the profile's credentials" : ""))
    }

    /// Puts a snapshot's objects into a profile: through its API server when it runs (watches end
    /// and clients list again), else into its store file.
    public func restoreSnapshot(_ name: String, profile profileName: String) async throws(ClusterError) {
        let snapshot = try Snapshot(name: name, home: home)
        let manifest = try snapshot.verified()
        let profile = try existing(profileName)
        let config = try profile.loadConfig()
        try requireSQLite(config)
        let summary = LocalkubeProcess(profile: profile).runningPID != nil
            ? try await restoreRunning(snapshot, into: profile, config)
            : try await restoreStopped(snapshot, into: profile)
        say("⏪  Restored snapshot \"\(name)\" into \"\(profile.name)\": \(summary.objects) objects (saved \(manifest.created.formatted(.iso8601))); "
            + "resourceVersions go on from \(summary.previousRevision + 1)")
    }

    func restoreRunning(_ snapshot: Snapshot, into profile: Profile, _ config: Profile.Config) async throws(ClusterError) -> RestoreSummary {
        guard let ca = try? String(contentsOf: profile.caURL, encoding: .utf8),
              let token = try? String(contentsOf: profile.tokenURL, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) else {
            throw ClusterError("cannot read the credentials of profile \"\(profile.name)\"")
        }
        // localkube reads a copy in its own folder (a restore may migrate it), and removes it.
        let copy = try copyForRestore(snapshot, into: profile)
        defer { try? FileManager.default.removeItem(at: copy) }
        let answer: (status: HTTPResponseStatus, body: [UInt8])
        do {
            answer = try await ReadinessProbe.send(.POST, port: config.port, caPEM: ca, path: "/cubby/v1/restore", token: token,
                                                   body: Array(#"{"file":"\#(copy.lastPathComponent)"}"#.utf8), contentType: "application/json")
        } catch {
            throw ClusterError("cannot reach the API server of \"\(profile.name)\" on port \(config.port): \(error)")
        }
        let json = try? JSONSerialization.jsonObject(with: Data(answer.body)) as? [String: Any]
        guard answer.status == .ok, let json, let objects = json["objects"] as? Int,
              let previous = json["previousRevision"] as? Int, let revision = json["revision"] as? Int else {
            let message = json?["message"] as? String ?? "HTTP \(answer.status.code)"
            throw ClusterError("cannot restore snapshot \"\(snapshot.name)\" into \"\(profile.name)\": \(message)")
        }
        return RestoreSummary(objects: objects, previousRevision: Int64(previous), revision: Int64(revision))
    }

    /// A copy of the snapshot's store in the profile's folder, named as a restore takes it.
    func copyForRestore(_ snapshot: Snapshot, into profile: Profile) throws(ClusterError) -> URL {
        let files = FileManager.default
        let copy = profile.directory.appendingPathComponent("restoring-\(UUID().uuidString).db")
        do {
            try files.createDirectory(at: profile.directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try files.copyItem(at: snapshot.storeURL, to: copy)
        } catch {
            throw ClusterError("cannot copy snapshot \"\(snapshot.name)\" into \(profile.directory.path): \(error.localizedDescription)")
        }
        return copy
    }

    /// Into the store file of a profile whose localkube is not running (a new profile's: a new store).
    func restoreStopped(_ snapshot: Snapshot, into profile: Profile) async throws(ClusterError) -> RestoreSummary {
        // A copy: the restore may migrate an older snapshot's file, and the snapshot stays as saved.
        let copy = try copyForRestore(snapshot, into: profile)
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: copy.path + suffix) } }
        do {
            let store = try SQLiteStore(path: profile.storeURL.path)
            let summary: RestoreSummary
            do { summary = try await store.restore(from: copy.path) } catch {
                await store.close()
                throw error
            }
            await store.close()
            return summary
        } catch {
            throw ClusterError("cannot restore snapshot \"\(snapshot.name)\" into \"\(profile.name)\": \(error)")
        }
    }

    /// `cubby start --snapshot` before localkube starts: a new profile takes the snapshot's
    /// credentials when it carries them (else it makes its own), and the store its objects.
    func seed(_ profile: Profile, from snapshot: Snapshot, _ manifest: Snapshot.Manifest, creating: Bool) async throws(ClusterError) {
        say("⏪  Restoring snapshot \"\(snapshot.name)\" (\(manifest.objects) objects, saved from \"\(manifest.profile)\" \(manifest.created.formatted(.iso8601)))")
        if creating, manifest.credentials {
            let files = FileManager.default
            do {
                try files.createDirectory(at: profile.directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                for file in Profile.credentialFiles where files.fileExists(atPath: snapshot.directory.appendingPathComponent(file).path) {
                    try files.copyItem(at: snapshot.directory.appendingPathComponent(file), to: profile.directory.appendingPathComponent(file))
                }
            } catch {
                throw ClusterError("cannot copy the snapshot's credentials into \(profile.directory.path): \(error.localizedDescription)")
            }
        }
        _ = try await restoreStopped(snapshot, into: profile)
    }

    public struct SnapshotRow: Sendable {
        public var name: String
        public var manifest: Snapshot.Manifest?
        public var bytes: Int
    }

    public func snapshots() -> [SnapshotRow] {
        Snapshot.all(home: home).map { snapshot in
            SnapshotRow(name: snapshot.name, manifest: try? snapshot.manifest(),
                        bytes: ((try? FileManager.default.attributesOfItem(atPath: snapshot.storeURL.path))?[.size] as? Int) ?? 0)
        }
    }

    public func removeSnapshot(_ name: String) throws(ClusterError) {
        let snapshot = try Snapshot(name: name, home: home)
        guard snapshot.exists else { throw ClusterError("snapshot \"\(name)\" not found. Run \"cubby snapshot ls\" to list the snapshots.") }
        do { try FileManager.default.removeItem(at: snapshot.directory) } catch {
            throw ClusterError("cannot remove \(snapshot.directory.path): \(error.localizedDescription)")
        }
        say("🔥  Removed snapshot \"\(name)\"")
    }

    func requireSQLite(_ config: Profile.Config) throws(ClusterError) {
        guard config.usesEtcd else { return }
        throw ClusterError("profile \"\(config.name)\" keeps its objects in etcd: snapshots are of the SQLite store (use etcdctl snapshot save on its etcd)")
    }
}
