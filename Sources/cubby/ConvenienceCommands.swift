import ArgumentParser
import Cluster
import Foundation
import Localkube

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Print the version of cubby.")

    func run() {
        print("cubby version: v\(ControlPlane.version)")
    }
}

struct ProfileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "profile", abstract: "Work with profiles (clusters).",
                                                    subcommands: [List.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List every profile and its status.")

        func run() async throws {
            let profiles = Profile.all()
            if profiles.isEmpty {
                print("🤹  No profiles yet. Create one with: cubby start")
                return
            }
            var rows = [["PROFILE", "SERVER", "STATUS"]]
            for profile in profiles {
                let server = (try? profile.loadConfig()).map { "https://127.0.0.1:\($0.port)" } ?? "<unknown>"
                let status = (try? await CLI.lifecycle().status(name: profile.name))?.apiServer ?? "Unknown"
                rows.append([profile.name, server, status])
            }
            // Columns as kubectl prints them: left-aligned, three spaces apart.
            let widths = (0..<3).map { c in rows.map { $0[c].count }.max() ?? 0 }
            for row in rows {
                print(row.enumerated().map { c, cell in c == 2 ? cell : cell.padding(toLength: widths[c] + 3, withPad: " ", startingAt: 0) }.joined())
            }
        }
    }
}

struct LogsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logs", abstract: "Print the cluster's localkube log.")

    @OptionGroup var options: ProfileOption

    @Flag(name: [.short, .long], help: "Keep printing new lines as they are written.")
    var follow = false

    func run() async throws {
        var url: URL?
        try await CLI.run { () async throws(ClusterError) in url = try CLI.lifecycle().logURL(name: options.profile) }
        guard let url, let handle = try? FileHandle(forReadingFrom: url) else { return }
        FileHandle.standardOutput.write(handle.readDataToEndOfFile())
        while follow {
            try await Task.sleep(for: .milliseconds(200))
            let more = handle.readDataToEndOfFile()
            if !more.isEmpty { FileHandle.standardOutput.write(more) }
        }
    }
}
