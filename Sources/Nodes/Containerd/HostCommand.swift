import Foundation
import Subprocess

/// Runs one of the machine's tools (ip, iptables-save, ctr, ...) to completion and hands back what
/// it printed; a non-zero exit is an error carrying its last line, as a person would read it.
public enum HostCommand {
    public struct Failure: Error, CustomStringConvertible {
        public let command: String
        public let output: String
        public var description: String {
            // The error line, else the last that says something (nft quotes the culprit and
            // underlines it with carets after its "Error:" line).
            let lines = output.split(whereSeparator: \.isNewline)
            let last = (lines.last { $0.contains("Error:") } ?? lines.last { $0.contains { $0.isLetter } }).map(String.init) ?? "failed"
            return "\(command): \(last)"
        }
    }

    @discardableResult
    public static func run(_ executable: String, _ arguments: [String], input: String? = nil) async throws -> String {
        let name = (executable as NSString).lastPathComponent
        let result = try await Subprocess.run(
            executable.hasPrefix("/") ? .path(.init(executable)) : .name(executable), arguments: .init(arguments),
            input: .string(input ?? ""), output: .string(limit: 64 << 20), error: .combinedWithOutput)
        let output = result.standardOutput
        guard case .exited(0) = result.terminationStatus else {
            throw Failure(command: ([name] + arguments.prefix(3)).joined(separator: " "), output: output)
        }
        return output
    }

    /// Where `name` is on PATH.
    public static func find(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        return path.split(separator: ":").map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
