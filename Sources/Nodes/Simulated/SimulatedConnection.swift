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

extension SimulatedNodes {
    /// No process, no network namespace: exec, attach and port-forward are refused, naming the
    /// driver, so the user knows it is the cluster's choice and not a fault.
    public func streamURL(pod: JSON, request: StreamRequest) async throws(StatusError) -> String {
        throw Self.noProcesses(pod, request)
    }

    public func run(inContainer pod: JSON, request: StreamRequest, streams: ProcessStreams) async throws(StatusError) -> Int32 {
        throw Self.noProcesses(pod, request)
    }

    static func noProcesses(_ pod: JSON, _ request: StreamRequest) -> StatusError {
        let what = switch request {
        case .exec: "exec into"
        case .attach: "attach to"
        case .portForward: "forward ports to"
        }
        let node = pod["spec"]["nodeName"].string ?? ""
        return .badRequest("cannot \(what) pod \"\(pod["metadata"]["name"].string ?? "")\": it is simulated on node \"\(node)\" "
            + "(the simulated driver runs no processes); start the cluster with --driver=containerd for real containers")
    }
}
