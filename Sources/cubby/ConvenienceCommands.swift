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

struct IPCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ip", abstract: "Print the node's IP address.")

    @OptionGroup var options: ProfileOption

    func run() async throws {
        try await CLI.run { () async throws(ClusterError) in print(try await CLI.lifecycle().nodeIP(name: options.profile)) }
    }
}

struct ServiceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "service",
        abstract: "Print where a NodePort or LoadBalancer service answers from this machine.")

    @OptionGroup var options: ProfileOption

    @Argument(help: "The service's name.")
    var service: String

    @Option(name: [.short, .long], help: "The service's namespace.")
    var namespace = "default"

    @Flag(help: "Print only the URLs, one per port.")
    var url = false

    func run() async throws {
        try await CLI.run { () async throws(ClusterError) in
            let urls = try await CLI.lifecycle().serviceURLs(name: options.profile, namespace: namespace, service: service)
            if url {
                for u in urls { print(u.url) }
                return
            }
            // minikube's table.
            let rows = [["NAMESPACE", "NAME", "TARGET PORT", "URL"]] + urls.map { [$0.namespace, $0.name, $0.targetPort, $0.url] }
            let widths = (0..<4).map { c in rows.map { $0[c].count }.max() ?? 0 }
            let rule = "|" + widths.map { String(repeating: "-", count: $0 + 2) }.joined(separator: "|") + "|"
            func line(_ row: [String], centered: Bool = false) -> String {
                "|" + zip(row, widths).map { cell, width in
                    let pad = width - cell.count, left = centered ? pad / 2 : 0
                    return " " + String(repeating: " ", count: left) + cell + String(repeating: " ", count: pad - left) + " "
                }.joined(separator: "|") + "|"
            }
            print(([rule, line(rows[0], centered: true), rule] + rows.dropFirst().map { line($0) } + [rule]).joined(separator: "\n"))
        }
    }
}
