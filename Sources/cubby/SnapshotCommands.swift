import ArgumentParser
import Cluster
import Foundation

struct SnapshotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "snapshot",
        abstract: "Save a cluster's objects and put them back, in well under a second.",
        subcommands: [Save.self, Restore.self, List.self, Remove.self])

    struct Save: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "save",
            abstract: "Save the cluster's objects as of one moment, while it runs or not.")

        @Argument(help: "The snapshot's name.")
        var name: String

        @OptionGroup var options: ProfileOption

        @Flag(name: .customLong("include-credentials"), help: "Also save the profile's certificates, keys and passwords (a snapshot without them can be shared).")
        var includeCredentials = false

        @Flag(help: "Replace a snapshot of the same name.")
        var force = false

        func run() async throws {
            try await CLI.run { () throws(ClusterError) in
                try CLI.lifecycle().saveSnapshot(name, profile: options.profile, includeCredentials: includeCredentials, force: force)
            }
        }
    }

    struct Restore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "restore",
            abstract: "Replace the cluster's objects with a snapshot's; watches end and clients list again. The profile keeps its own credentials.")

        @Argument(help: "The snapshot's name.")
        var name: String

        @OptionGroup var options: ProfileOption

        func run() async throws {
            try await CLI.run { () async throws(ClusterError) in try await CLI.lifecycle().restoreSnapshot(name, profile: options.profile) }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ls", abstract: "List the snapshots.", aliases: ["list"])

        func run() {
            let rows = CLI.lifecycle().snapshots()
            if rows.isEmpty {
                print("🤹  No snapshots yet. Save one with: cubby snapshot save NAME")
                return
            }
            var table = [["NAME", "PROFILE", "OBJECTS", "RESOURCEVERSION", "CREDENTIALS", "SIZE", "AGE"]]
            for row in rows {
                guard let m = row.manifest else {
                    table.append([row.name, "<damaged>", "", "", "", Self.size(row.bytes), ""])
                    continue
                }
                table.append([row.name, m.profile, String(m.objects), String(m.revision), m.credentials ? "yes" : "no",
                              Self.size(row.bytes), Self.age(since: m.created)])
            }
            // Columns as kubectl prints them: left-aligned, three spaces apart.
            let widths = table[0].indices.map { c in table.map { $0[c].count }.max() ?? 0 }
            for line in table {
                print(line.enumerated().map { c, cell in c == line.count - 1 ? cell : cell.padding(toLength: widths[c] + 3, withPad: " ", startingAt: 0) }.joined())
            }
        }

        static func size(_ bytes: Int) -> String {
            bytes == 0 ? "0" : bytes < 1024 * 1024 ? "\(max(1, bytes / 1024))KiB" : String(format: "%.1fMiB", Double(bytes) / 1048576)
        }

        /// kubectl's AGE: the two largest units for short spans, one for long ones.
        static func age(since date: Date) -> String {
            let s = max(0, Int(Date().timeIntervalSince(date)))
            switch s {
            case ..<120: return "\(s)s"
            case ..<600: return "\(s / 60)m\(s % 60 == 0 ? "" : "\(s % 60)s")"
            case ..<10800: return "\(s / 60)m"
            case ..<86400: return "\(s / 3600)h"
            default: return "\(s / 86400)d"
            }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove a snapshot.", aliases: ["delete"])

        @Argument(help: "The snapshot's name.")
        var name: String

        func run() throws {
            do { try CLI.lifecycle().removeSnapshot(name) } catch {
                FileHandle.standardError.write(Data("❌  \(error.description)\n".utf8))
                throw ExitCode.failure
            }
        }
    }
}
