import APIMachinery
import Client
import Foundation
import Resources

/// Nodes whose pods run no processes, as kwok's: each node registers with its capacity, labels
/// and pod CIDR and renews its lease; a pod bound to one goes Pending (ContainerCreating), then
/// Running with an IP from the node's CIDR, Ready once its readiness probe's initial delay has
/// passed. A Job's pods, and any with the run-seconds or exit-code annotation, exit after that
/// many seconds (default 1) with that code (default 0); as the restart policy says, the pod then
/// ends Succeeded or Failed, or its containers restart with the kubelet's crash-loop back-off. A
/// deleted pod stops after its stop-seconds annotation (default 0), within its grace period, and goes.
/// Running containers use what the usage annotations say (default: their requests), for `kubectl top`.
///
/// A node annotated `cubby.dev/simulated-stopped: "true"` stops: no heartbeats, its pods are
/// left as they are, so node lifecycle can be exercised.
public struct SimulatedNodes: NodeAgent, Controller {
    public static let runSecondsAnnotation = "cubby.dev/simulated-run-seconds"
    /// The exit code of the pod's containers when their run time is up (default 0).
    public static let exitCodeAnnotation = "cubby.dev/simulated-exit-code"
    public static let stoppedAnnotation = "cubby.dev/simulated-stopped"
    /// How long a pod's containers take to stop once it is deleted (capped by its grace period).
    public static let stopSecondsAnnotation = "cubby.dev/simulated-stop-seconds"
    /// What each of the pod's containers uses, for the metrics API (default: its requests).
    public static let usageCPUAnnotation = "cubby.dev/simulated-usage-cpu"
    public static let usageMemoryAnnotation = "cubby.dev/simulated-usage-memory"
    /// The kubelet's 10 s, or less when the cluster expects heartbeats sooner.
    let renewInterval: Duration

    public let name = "simulated-node-agent"
    public let queue = WorkQueue()
    /// Pods of different nodes are independent, as separate kubelets would be.
    public var workers: Int { 4 }
    public let nodeNames: [String]
    let indexes: [String: Int]
    let shape: NodeShape
    let client: Client
    var heartbeat: NodeHeartbeat { NodeHeartbeat(client: client) }
    let pods: Informer
    let nodes: Informer
    let ips = PodIPAllocator()
    /// Pods whose containers have been told to stop (Killing recorded once).
    let stopping = KeySet()
    let version: String

    public init(client: Client, informers: InformerFactory, names: [String], shape: NodeShape = NodeShape(), kubeletVersion: String,
                renewInterval: Duration = .seconds(10)) {
        self.renewInterval = renewInterval
        self.client = client
        self.nodeNames = names
        var indexes: [String: Int] = [:]
        for (i, n) in names.enumerated() { indexes[n] = i }
        self.indexes = indexes
        self.shape = shape
        self.version = kubeletVersion
        pods = informers.pods
        nodes = informers.nodes
    }

    public func run() async {
        for name in nodeNames { await register(name) }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await heartbeats() }
            group.addTask { await run(logger: .init(label: "simulated-nodes")) }
        }
    }

    public func register() async {
        let queue = queue, indexes = indexes, ips = ips
        await pods.addHandler { event in
            let pod = event.object
            guard let node = pod["spec"]["nodeName"].string, indexes[node] != nil, !MirrorPod.isMirror(pod) else { return }
            let key = Informer.key(pod)
            if case .deleted = event {
                ips.release(key)
                return
            }
            if let ip = pod["status"]["podIP"].string { ips.restore(key, ip: ip) }
            queue.add(key)
        }
        // A node started again picks up its pods where it left them.
        let pods = pods
        await nodes.addHandler { event in
            guard case .updated(let old, let new) = event, indexes[new["metadata"]["name"].string ?? ""] != nil,
                  old["metadata"]["annotations"][Self.stoppedAnnotation].string == "true",
                  new["metadata"]["annotations"][Self.stoppedAnnotation].string != "true" else { return }
            let name = new["metadata"]["name"].string
            Task { for pod in await pods.list(where: { $0["spec"]["nodeName"].string == name }) { queue.add(Informer.key(pod)) } }
        }
    }

    // MARK: nodes and leases

    /// The InternalIP of the node at `index`, as kind numbers its nodes' containers.
    public static func address(index: Int) -> String { "172.18.0.\(index + 2)" }

    func nodeObject(_ name: String) -> JSON {
        let index = indexes[name] ?? 0
        let resources: JSON = ["cpu": .string(shape.cpu), "memory": .string(shape.memory), "pods": .string(String(shape.pods)),
                               "ephemeral-storage": .string(shape.ephemeralStorage), "hugepages-2Mi": "0"]
        return [
            "apiVersion": "v1", "kind": "Node",
            // The first node carries the control plane, as minikube's and kind's do.
            "metadata": ["name": .string(name), "labels": NodeHeartbeat.labels(name, controlPlane: index == 0),
                "annotations": ["node.alpha.kubernetes.io/ttl": "0", "cubby.dev/driver": "simulated"]],
            "spec": ["podCIDR": .string(PodIPAllocator.cidr(node: index)), "podCIDRs": [.string(PodIPAllocator.cidr(node: index))]],
            "status": ["capacity": resources, "allocatable": resources],
        ]
    }

    func nodeStatus(_ name: String, _ node: JSON, now: String) -> JSON {
        let index = indexes[name] ?? 0
        var status = nodeObject(name)["status"]
        func condition(_ type: String, _ value: String, _ reason: String, _ message: String) -> JSON {
            NodeHeartbeat.condition(node, type, value, reason, message, now: now)
        }
        status["conditions"] = [
            condition("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
            condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
            condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
            condition("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
        ]
        status["addresses"] = [["type": "InternalIP", "address": .string(Self.address(index: index))], ["type": "Hostname", "address": .string(name)]]
        status["daemonEndpoints"] = ["kubeletEndpoint": ["Port": 10250]]
        status["nodeInfo"] = [
            "machineID": .string(stableHex(name, 32)), "systemUUID": .string(stableHex("uuid-" + name, 32)), "bootID": .string(stableHex("boot-" + name, 32)),
            "kernelVersion": "simulated", "osImage": "Cubby simulated node", "containerRuntimeVersion": "simulated://1.0",
            "kubeletVersion": .string(version), "kubeProxyVersion": "", "operatingSystem": "linux", "architecture": .string(NodeHeartbeat.arch),
        ]
        return status
    }

    /// Creates the node (or takes it over after a restart) and reports it Ready.
    func register(_ name: String) async {
        let now = APITime.format(Date())
        await heartbeat.register(name, object: nodeObject(name)) { node in nodeStatus(name, node, now: now) }
    }

    func heartbeats() async {
        var beats = 0
        while !Task.isCancelled {
            try? await Task.sleep(for: renewInterval)
            beats += 1
            for name in nodeNames {
                guard let node = await nodes.get(name), node["metadata"]["annotations"][Self.stoppedAnnotation].string != "true" else { continue }
                await heartbeat.renewLease(name)
                // Node status is reported every minute, as the kubelet's nodeStatusReportFrequency,
                // and at once when the node is not shown Ready (it was stopped and runs again).
                let shownReady = node["status"]["conditions"].array?.contains { $0["type"] == "Ready" && $0["status"] == "True" } ?? false
                if beats % max(1, Int(60 / max(renewInterval.components.seconds, 1))) == 0 || !shownReady {
                    let status = nodeStatus(name, node, now: APITime.format(Date()))
                    _ = try? await client.nodes.modify(nil, name, status: true) { $0["status"] = status }
                }
            }
        }
    }
}
