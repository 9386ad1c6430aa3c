import ArgumentParser
import Cluster

struct UpgradeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "upgrade",
        abstract: "Restart a cluster on this cubby binary, migrating its store if its format changed.",
        discussion: "Stops the cluster if it runs and starts it again on the same port; every object is kept. "
            + "A store or profile written by a newer cubby is refused and left as it is.")

    @OptionGroup var options: ProfileOption

    func run() async throws {
        try await CLI.run { () async throws(ClusterError) in try await CLI.lifecycle().upgrade(name: options.profile) }
    }
}
