import Crypto
import Foundation
import Localkube
import Storage

/// A cluster's saved state, in `$CUBBY_HOME/snapshots/NAME/`: `state.db` (the store as of one
/// revision), the profile's `config.json`, `manifest.json` (what `cubby snapshot ls` shows and
/// what a restore checks first) and, only when saved with `--include-credentials`, the profile's
/// `pki/`, `token` and `basic-auth.csv`. Without them a snapshot can be shared: it holds the
/// cluster's objects, not the keys to it.
public struct Snapshot: Sendable {
    /// The layout this cubby writes; a snapshot of a higher one is refused.
    public static let format = 1

    public struct Manifest: Codable, Sendable, Equatable {
        public var format: Int
        public var cubbyVersion: String
        public var storeFormat: Int
        public var revision: Int64
        public var objects: Int
        public var created: Date
        /// The profile it was saved from.
        public var profile: String
        /// Of state.db: a snapshot damaged since it was saved is refused before it is used.
        public var sha256: String
        public var credentials: Bool
    }

    public let name: String
    public let directory: URL

    public init(name: String, home: URL = Profile.home) throws(ClusterError) {
        guard Profile.isValidName(name) else {
            throw ClusterError("invalid snapshot name \"\(name)\": use lower case letters, digits and '-'")
        }
        self.name = name
        directory = Self.folder(home).appendingPathComponent(name, isDirectory: true)
    }

    static func folder(_ home: URL) -> URL { home.appendingPathComponent("snapshots", isDirectory: true) }

    public var storeURL: URL { directory.appendingPathComponent("state.db") }
    public var manifestURL: URL { directory.appendingPathComponent("manifest.json") }
    public var configURL: URL { directory.appendingPathComponent("config.json") }
    public var exists: Bool { FileManager.default.fileExists(atPath: directory.path) }

    /// Every snapshot, by name.
    public static func all(home: URL = Profile.home) -> [Snapshot] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder(home).path)) ?? []
        return names.sorted().compactMap { try? Snapshot(name: $0, home: home) }
    }

    /// The manifest, as written.
    public func manifest() throws(ClusterError) -> Manifest {
        guard exists else { throw ClusterError("snapshot \"\(name)\" not found. Run \"cubby snapshot ls\" to list the snapshots.") }
        do {
            return try Self.decoder.decode(Manifest.self, from: Data(contentsOf: manifestURL))
        } catch {
            throw ClusterError("snapshot \"\(name)\" is damaged: its manifest.json cannot be read")
        }
    }

    /// The manifest of a snapshot this cubby can restore: of a layout and store format it reads,
    /// its state.db as it was saved. Checked before anything is changed.
    public func verified() throws(ClusterError) -> Manifest {
        let manifest = try manifest()
        if manifest.format > Self.format || manifest.storeFormat > SQLiteStore.formatVersion {
            throw ClusterError("snapshot \"\(name)\" was saved by a newer cubby (v\(manifest.cubbyVersion), in snapshot format \(manifest.format) "
                               + "and store format \(manifest.storeFormat); this cubby reads up to \(Self.format) and \(SQLiteStore.formatVersion)): upgrade cubby")
        }
        guard let digest = Self.sha256(of: storeURL) else {
            throw ClusterError("snapshot \"\(name)\" is damaged: its state.db cannot be read")
        }
        guard digest == manifest.sha256 else {
            throw ClusterError("snapshot \"\(name)\" is damaged: its state.db does not match the checksum in its manifest")
        }
        return manifest
    }

    /// The profile config it was saved with, if readable.
    public var config: Profile.Config? {
        (try? Data(contentsOf: configURL)).flatMap { try? JSONDecoder().decode(Profile.Config.self, from: $0) }
    }

    static func sha256(of url: URL) -> String? {
        guard let data = try? Data(contentsOf: url, options: .mappedIfSafe) else { return nil }
        return SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }

    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }

    static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}
