import ArgumentParser
import Cluster

struct KubectlCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "kubectl",
        abstract: "Run the kubectl on PATH against a cluster: cubby kubectl -- get pods -A",
        discussion: "Adds --context NAME (the profile's context in your kubeconfig); kubectl's input, output and "
            + "exit status are passed through.")

    @OptionGroup var options: ProfileOption

    @Argument(parsing: .captureForPassthrough, help: "Arguments for kubectl, after --.")
    var arguments: [String] = []

    func run() async throws {
        // `cubby kubectl --help` is about this command; `cubby kubectl -- --help` is kubectl's.
        if arguments == ["--help"] || arguments == ["-h"] { throw CleanExit.helpRequest(self) }
        let passed = arguments.first == "--" ? Array(arguments.dropFirst()) : arguments
        try await CLI.run { () async throws(ClusterError) in try CLI.lifecycle().kubectl(name: options.profile, arguments: passed) }
    }
}
