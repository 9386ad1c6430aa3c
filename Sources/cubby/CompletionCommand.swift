import ArgumentParser
import Cluster
import Foundation

struct CompletionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "completion",
        abstract: "Print the shell completion script for bash, zsh or fish.",
        discussion: """
            bash:  source <(cubby completion bash)      (or save it in /etc/bash_completion.d/cubby)
            zsh:   cubby completion zsh > "${fpath[1]}/_cubby"
            fish:  cubby completion fish > ~/.config/fish/completions/cubby.fish
            """)

    @Argument(help: "The shell: bash, zsh or fish.")
    var shell: String

    func run() throws {
        guard let kind = CompletionShell(rawValue: shell) else {
            FileHandle.standardError.write(Data("❌  unsupported shell \"\(shell)\": choose bash, zsh or fish\n".utf8))
            throw ExitCode.failure
        }
        let script = Cubby.completionScript(for: kind)
        print(script, terminator: script.hasSuffix("\n") ? "" : "\n")
    }
}
