import ArgumentParser
import Cluster
import Foundation

struct ImageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "image", abstract: "Manage the images of a cluster's containerd.",
                                                    subcommands: [Load.self, List.self, Remove.self])

    struct Load: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "load",
            abstract: "Load an image archive (OCI layout or docker save tar; - for standard input) into the cluster.")

        @OptionGroup var options: ProfileOption

        @Argument(help: "The archive to load, or - to read it from standard input.")
        var file: String

        func run() async throws {
            try await CLI.run { () async throws(ClusterError) in
                try await ClusterImages(lifecycle: CLI.lifecycle()).load(file, profile: options.profile)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ls", abstract: "List the cluster's images.", aliases: ["list"])

        @OptionGroup var options: ProfileOption

        func run() async throws {
            var names: [String] = []
            try await CLI.run { () async throws(ClusterError) in
                names = try await ClusterImages(lifecycle: CLI.lifecycle()).list(profile: options.profile)
            }
            for name in names { print(name) }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove images from the cluster.", aliases: ["remove"])

        @OptionGroup var options: ProfileOption

        @Argument(help: "The images to remove.")
        var images: [String]

        func run() async throws {
            try await CLI.run { () async throws(ClusterError) in
                try await ClusterImages(lifecycle: CLI.lifecycle()).remove(images, profile: options.profile)
            }
        }
    }
}
