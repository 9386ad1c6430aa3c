import APIMachinery
import Registry

/// `kubectl logs` of a simulated pod: one plain line saying why there is nothing more (the pod
/// runs no process), rather than an error a script would stop on.
extension SimulatedNodes: NodeConnection {
    public func containerLog(pod: JSON, options: PodLogOptions) async throws(StatusError) -> AsyncThrowingStream<[UInt8], any Error> {
        let node = pod["spec"]["nodeName"].string ?? ""
        let line = "container \"\(options.container)\" of pod \"\(pod["metadata"]["name"].string ?? "")\" is simulated on node \"\(node)\" "
            + "(the simulated driver runs no processes): it writes no log\n"
        return AsyncThrowingStream { continuation in
            continuation.yield(Array(line.utf8))
            continuation.finish()
        }
    }
}
