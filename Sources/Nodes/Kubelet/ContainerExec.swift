import APIMachinery
import Foundation
import Subprocess

/// `kubectl exec -i` without a terminal, through containerd's task API (`ctr tasks exec`, the
/// call CRI's exec makes underneath) rather than CRI's streaming server. That server closes a
/// command's stdin as soon as the command's stdout closes (containerd#13934, in every release so
/// far), so `kubectl exec -i POD -- sh -c 'cat > f' < data` would keep only what arrived before
/// the shell redirected its output. Here stdin ends only when the client's does.
extension Kubelet {
    public func run(inContainer pod: JSON, request: StreamRequest, streams: ProcessStreams) async throws(StatusError) -> Int32 {
        guard case .exec(let container, let command, _, _, _, false) = request else {
            throw .badRequest("only a command without a terminal runs this way")
        }
        let id = try await runningContainer(container, of: pod)
        let execID = "exec-" + (0..<8).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        let arguments = ["--address", config.layout.socketPath, "--namespace", "k8s.io", "tasks", "exec", "--exec-id", execID, id] + command
        do {
            let result = try await Subprocess.run(.path(.init(config.ctr)), arguments: .init(arguments),
                                                  input: .inputWriter, output: .sequence, error: .sequence) { execution in
                try await withThrowingTaskGroup(of: Bool.self) { group in
                    let writer = execution.standardInputWriter
                    group.addTask {
                        // A command that exits without reading all of stdin makes the write fail: not an error.
                        for await chunk in streams.stdin { guard (try? await writer.write(chunk)) != nil else { break } }
                        try? await writer.finish()
                        return false
                    }
                    group.addTask {
                        for try await buffer in execution.standardOutput { try await streams.output(1, buffer.withUnsafeBytes { Array($0) }) }
                        return true
                    }
                    group.addTask {
                        for try await buffer in execution.standardError { try await streams.output(2, buffer.withUnsafeBytes { Array($0) }) }
                        return true
                    }
                    // Done when both outputs end (the command and ctr have exited); stdin may still wait.
                    var outputs = 0
                    while outputs < 2, let isOutput = try await group.next() { if isOutput { outputs += 1 } }
                    group.cancelAll()
                }
            }
            switch result.terminationStatus {
            case .exited(let code): return code
            case .signaled(let signal): return 128 + signal
            }
        } catch {
            throw .internalError("error executing command in container: \(error)")
        }
    }
}
