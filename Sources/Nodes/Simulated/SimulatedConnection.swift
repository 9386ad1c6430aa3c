import APIMachinery
import Foundation

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
    /// Simulated usage, as kwok's resource-usage simulation: each running container uses what
    /// its pod's usage annotations say, else what it requests, else 1m CPU and 1Mi memory; a
    /// node uses what its pods do. So `kubectl top` and the metrics API (and what reads them)
    /// have figures a test can steer.
    public func usage() async -> [NodeUsage] {
        let now = Date()
        let running = await pods.list { $0["status"]["phase"].string == "Running" }
        var byNode: [String: [NodeUsage.Pod]] = [:]
        for pod in running {
            guard let node = pod["spec"]["nodeName"].string, indexes[node] != nil else { continue }
            byNode[node, default: []].append(Self.usage(of: pod))
        }
        return nodeNames.map { node in
            let pods = byNode[node] ?? []
            let containers = pods.flatMap(\.containers).map(\.usage)
            let total = ResourceUsage(cpuNanoCores: containers.reduce(0) { $0 + $1.cpuNanoCores },
                                      memoryBytes: containers.reduce(0) { $0 + $1.memoryBytes })
            return NodeUsage(node: node, timestamp: now, window: 10, usage: total, pods: pods)
        }
    }

    static func usage(of pod: JSON) -> NodeUsage.Pod {
        let annotations = pod["metadata"]["annotations"]
        let containers = (pod["spec"]["containers"].array ?? []).map { c in
            let requests = c["resources"]["requests"]
            let cpu = annotations[usageCPUAnnotation].string.flatMap(Quantity.parse) ?? requests["cpu"].string.flatMap(Quantity.parse) ?? 0.001
            let memory = annotations[usageMemoryAnnotation].string.flatMap(Quantity.parse)
                ?? requests["memory"].string.flatMap(Quantity.parse) ?? 1_048_576
            return (name: c["name"].string ?? "", usage: ResourceUsage(cpuNanoCores: UInt64(max(0, cpu * 1e9)), memoryBytes: UInt64(max(0, memory))))
        }
        return NodeUsage.Pod(namespace: pod["metadata"]["namespace"].string ?? "", name: pod["metadata"]["name"].string ?? "", containers: containers)
    }
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
