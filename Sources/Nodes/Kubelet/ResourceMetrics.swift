import CRI
import Foundation
import APIMachinery
import Synchronization

/// The kubelet's resource metrics, as metrics-server reads them from a kubelet: every `interval`
/// the containers' cumulative CPU time and working set (CRI ListContainerStats) and the node's
/// (/proc/stat, /proc/meminfo) are sampled; usage is the CPU time's rate between the last two
/// samples and the latest working set.
final class ResourceMetrics: Sendable {
    struct Sample: Sendable {
        var time: Date
        /// Busy CPU time of the node, nanoseconds.
        var nodeCPU: UInt64
        var nodeMemory: UInt64
        /// By container id: pod namespace, pod name, container name, CPU nanoseconds, working set.
        var containers: [String: (namespace: String, pod: String, name: String, cpu: UInt64, memory: UInt64)]
    }

    let interval: Duration
    let samples = Mutex<(previous: Sample?, latest: Sample?)>((nil, nil))

    init(interval: Duration = .seconds(5)) { self.interval = interval }

    func run(_ runtime: RuntimeConnection) async {
        while !Task.isCancelled {
            if let sample = await Self.sample(runtime) {
                samples.withLock { $0 = ($0.latest, sample) }
            }
            try? await Task.sleep(for: interval)
        }
    }

    /// The usage over the last window, once two samples exist.
    func usage(node: String) -> NodeUsage? {
        guard case let (previous?, latest?) = samples.withLock({ $0 }) else { return nil }
        let window = latest.time.timeIntervalSince(previous.time)
        guard window > 0 else { return nil }
        func rate(_ now: UInt64, _ before: UInt64) -> UInt64 { now > before ? UInt64(Double(now - before) / window) : 0 }
        var pods: [String: NodeUsage.Pod] = [:]
        for (id, c) in latest.containers.sorted(by: { $0.value.name < $1.value.name }) {
            guard let before = previous.containers[id] else { continue }
            let key = "\(c.namespace)/\(c.pod)"
            pods[key, default: NodeUsage.Pod(namespace: c.namespace, name: c.pod, containers: [])].containers
                .append((c.name, ResourceUsage(cpuNanoCores: rate(c.cpu, before.cpu), memoryBytes: c.memory)))
        }
        return NodeUsage(node: node, timestamp: latest.time, window: window,
                         usage: ResourceUsage(cpuNanoCores: rate(latest.nodeCPU, previous.nodeCPU), memoryBytes: latest.nodeMemory),
                         pods: pods.values.sorted { ($0.namespace, $0.name) < ($1.namespace, $1.name) })
    }

    static func sample(_ runtime: RuntimeConnection) async -> Sample? {
        guard let stats = try? await runtime.runtime.listContainerStats(.init()).stats,
              let node = nodeCounters() else { return nil }
        var containers: [String: (namespace: String, pod: String, name: String, cpu: UInt64, memory: UInt64)] = [:]
        for s in stats {
            let labels = s.attributes.labels
            guard let pod = labels[CRIKeys.podName], let namespace = labels[CRIKeys.podNamespace] else { continue }
            containers[s.attributes.id] = (namespace, pod, s.attributes.metadata.name, s.cpu.usageCoreNanoSeconds.value,
                                           s.memory.workingSetBytes.value)
        }
        return Sample(time: Date(), nodeCPU: node.cpu, nodeMemory: node.memory, containers: containers)
    }

    /// The node's busy CPU time (all but idle and iowait, in nanoseconds) and memory in use
    /// (MemTotal - MemAvailable), from the kernel's own counters.
    static func nodeCounters() -> (cpu: UInt64, memory: UInt64)? {
        guard let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
              let meminfo = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
              let line = stat.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") }) else { return nil }
        let ticks = line.split(separator: " ").dropFirst().compactMap { UInt64($0) }
        guard ticks.count >= 5 else { return nil }
        let busy = ticks.reduce(0, +) - ticks[3] - ticks[4]
        let userHZ = UInt64(sysconf(Int32(_SC_CLK_TCK)))
        func kB(_ key: String) -> UInt64? {
            meminfo.split(separator: "\n").first { $0.hasPrefix(key + ":") }?.split(separator: " ").dropFirst().first.flatMap { UInt64($0) }
        }
        guard let total = kB("MemTotal"), let available = kB("MemAvailable") else { return nil }
        return (busy * (1_000_000_000 / max(userHZ, 1)), (total - min(available, total)) * 1024)
    }
}
