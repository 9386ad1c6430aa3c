import APIMachinery
import Registry

/// What a simulated node answers for what only a node has. `kubectl logs` of a simulated pod is
/// one plain line saying why there is nothing more (the pod runs no process), rather than an
/// error a script would stop on.
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

extension SimulatedNodes {
    /// Simulated pods use nothing: `kubectl top` says metrics are not available, as it does
    /// before metrics-server's first scrape.
    public func usage() async -> [NodeUsage] { [] }
}
