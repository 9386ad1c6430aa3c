import APIMachinery
import CRI
import Client
import Foundation

/// The node as the kubelet reports it, from the real machine: capacity and allocatable (cpu,
/// memory less the 100Mi eviction threshold, ephemeral storage less its 10%, 110 pods), the
/// kernel, OS and runtime in nodeInfo, the node's address on the pod network, the images it
/// holds, and pressure conditions from what is actually free.
extension Kubelet {
    func nodeObject() -> JSON {
        let cidr = config.network.nodePodCIDR(0)
        return [
            "apiVersion": "v1", "kind": "Node",
            "metadata": ["name": .string(nodeName), "labels": NodeHeartbeat.labels(nodeName, controlPlane: true),
                         "annotations": ["node.alpha.kubernetes.io/ttl": "0", "cubby.dev/driver": "containerd"]],
            "spec": ["podCIDR": .string(cidr), "podCIDRs": [.string(cidr)]],
        ]
    }

    func nodeStatus(_ node: JSON, runtimeVersion: String, images: [Runtime_V1_Image]) -> JSON {
        let now = APITime.format(Date())
        let memory = Machine.memoryBytes, disk = Machine.disk(config.layout.dataDirectory.path)
        let capacity: JSON = ["cpu": .string(String(Machine.cpuCount)), "memory": .string("\(memory / 1024)Ki"),
                              "ephemeral-storage": .string("\(disk.total / 1024)Ki"), "pods": "110", "hugepages-1Gi": "0", "hugepages-2Mi": "0"]
        var allocatable = capacity
        allocatable["memory"] = .string("\(max(0, memory - 100 << 20) / 1024)Ki")
        allocatable["ephemeral-storage"] = .string(String(disk.total * 9 / 10))
        let lowMemory = Machine.availableMemoryBytes < 100 << 20
        let lowDisk = disk.total > 0 && disk.available * 10 < disk.total
        func condition(_ type: String, _ value: String, _ reason: String, _ message: String) -> JSON {
            NodeHeartbeat.condition(node, type, value, reason, message, now: now)
        }
        var status = node["status"]
        status["capacity"] = capacity
        status["allocatable"] = allocatable
        status["conditions"] = [
            lowMemory ? condition("MemoryPressure", "True", "KubeletHasInsufficientMemory", "kubelet has insufficient memory available")
                : condition("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
            lowDisk ? condition("DiskPressure", "True", "KubeletHasDiskPressure", "kubelet has disk pressure")
                : condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
            condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
            condition("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
        ]
        status["addresses"] = [["type": "InternalIP", "address": .string(nodeIP)], ["type": "Hostname", "address": .string(nodeName)]]
        status["daemonEndpoints"] = ["kubeletEndpoint": ["Port": 10250]]
        status["nodeInfo"] = [
            "machineID": .string(Machine.machineID), "systemUUID": .string(Machine.systemUUID), "bootID": .string(Machine.bootID),
            "kernelVersion": .string(Machine.kernelVersion), "osImage": .string(Machine.osImage),
            "containerRuntimeVersion": .string("containerd://\(runtimeVersion)"), "kubeletVersion": .string(config.kubeletVersion),
            "kubeProxyVersion": "", "operatingSystem": "linux", "architecture": .string(NodeHeartbeat.arch),
        ]
        // Largest first, at most 50, as upstream reports them.
        status["images"] = .array(images.sorted { $0.size > $1.size }.prefix(50).map { image in
            ["names": .array((image.repoDigests + image.repoTags).map { .string($0) }), "sizeBytes": .int(Int64(image.size))]
        })
        return status
    }

    func register(_ name: String) async {
        let status = await currentStatus()
        await NodeHeartbeat(client: client).register(name, object: nodeObject(), status: status)
    }

    /// A function of the node as stored that gives its status now.
    func currentStatus() async -> @Sendable (JSON) -> JSON {
        let version = (try? await runtime.runtime.version(.with { $0.version = "v1" }).runtimeVersion) ?? "unknown"
        let images = (try? await runtime.images.listImages(.init()).images) ?? []
        return { node in nodeStatus(node, runtimeVersion: version, images: images) }
    }

    /// The lease every 10 s; the status when it changed (images, capacity, a condition), and
    /// every minute regardless, as the kubelet's update and report frequencies.
    func heartbeats() async {
        var beats = 0
        let heartbeat = NodeHeartbeat(client: client)
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(10))
            beats += 1
            await heartbeat.renewLease(nodeName)
            guard let node = try? await client.nodes.get(nil, nodeName) else { continue }
            let fresh = await currentStatus()(node)
            if beats % 6 == 0 || Self.withoutTimes(fresh) != Self.withoutTimes(node["status"]) {
                _ = try? await client.nodes.modify(nil, nodeName, status: true) { $0["status"] = fresh }
            }
        }
    }

    /// A node status with its heartbeat times left out, to see whether anything else changed.
    static func withoutTimes(_ status: JSON) -> JSON {
        var s = status
        s["conditions"] = .array((status["conditions"].array ?? []).map { c in
            var c = c
            c["lastHeartbeatTime"] = nil
            return c
        })
        return s
    }
}
