import Foundation

/// The `nft` tool, applied to one cluster's own table only (the service proxy's).
public enum NFTables {
    public struct Missing: Error, CustomStringConvertible {
        public var description: String { "nft not found; install nftables (sudo scripts/install-runtime.sh)" }
    }

    public static func tool() throws -> String {
        guard let path = HostCommand.find("nft") else { throw Missing() }
        return path
    }

    /// Applies a script as one transaction.
    public static func apply(_ script: String) async throws {
        try await HostCommand.run(try tool(), ["-f", "-"], input: script)
    }

    /// Whether the table exists (someone may have flushed the ruleset); lists table names only.
    public static func exists(_ table: String) async -> Bool {
        guard let nft = try? tool(), let tables = try? await HostCommand.run(nft, ["list", "tables", "ip"]) else { return false }
        return tables.split(separator: "\n").contains { $0 == "table ip \(table)" }
    }

    /// Removes the table and every rule, map and set in it; nothing else is touched.
    public static func deleteTable(_ table: String) async {
        guard let nft = try? tool(), await exists(table) else { return }
        _ = try? await HostCommand.run(nft, ["delete", "table", "ip", table])
    }
}
