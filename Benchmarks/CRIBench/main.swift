import APIServer
import CRI
import Foundation

// The floor a kubelet is measured against: pods made straight through CRI on a cluster's own
// containerd (RunPodSandbox, CreateContainer, StartContainer), one after another, as the kubelet
// would make them (hostname, DNS, log folder, cgroup parent), then removed.
//
//   cubby-cri-bench --socket /run/cubby/NAME/containerd.sock --logs DIR [--count 30] [--image busybox:1.35]
//
// With --exec CONTAINER_ID instead: `true` run in that container straight through CRI, the floor
// `kubectl exec POD -- true` is measured against: CRI Exec and its stream on containerd's
// streaming server (SPDY: error, stdout and stderr streams, until the exit status), as crictl
// exec runs it; with --sync, CRI's ExecSync.
//
// Prints one JSON line: {"count":N,"p50_ms":...,"p95_ms":...,"samples_ms":[...]}.

func option(_ name: String, _ fallback: String? = nil) -> String {
    let args = CommandLine.arguments
    if let i = args.firstIndex(of: name), i + 1 < args.count { return args[i + 1] }
    guard let fallback else {
        FileHandle.standardError.write(Data("cubby-cri-bench: \(name) is required\n".utf8))
        exit(2)
    }
    return fallback
}

let socket = option("--socket")
let count = Int(option("--count", "30")) ?? 30
let image = option("--image", "busybox:1.35")
let cgroupRoot = option("--cgroup-parent", "/cubby-bench")
let execContainer = option("--exec", "")

/// A remote command's stream, as crictl reads it: the error, stdout and stderr streams until each ends.
func stream(_ url: String) async throws {
    try await StreamingBackend.withUpgradedConnection(to: url, protocols: ["v4.channel.k8s.io"]) { backend in
        let session = try await SPDYClientSession.open([[("streamType", "error")], [("streamType", "stdout")], [("streamType", "stderr")]],
                                                       reader: &backend.reader, outbound: backend.outbound)
        var open = Set(session.streams)
        try await session.run(&backend.reader) { event in
            if case .finished(let stream) = event { open.remove(stream) }
            return !open.isEmpty
        }
    }
}

func milliseconds(_ d: Duration) -> Double { Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15 }

let runtime = try RuntimeConnection(socketPath: socket)
var samples: [Double] = []
var sandboxes: [String] = []
if !execContainer.isEmpty {
    let sync = CommandLine.arguments.contains("--sync")
    for _ in 0..<count {
        let started = ContinuousClock.now
        if sync {
            let result = try await runtime.runtime.execSync(.with { $0.containerID = execContainer; $0.cmd = ["true"]; $0.timeout = 10 })
            guard result.exitCode == 0 else { fatalError("exec failed: \(result.exitCode)") }
        } else {
            let url = try await runtime.runtime.exec(.with { $0.containerID = execContainer; $0.cmd = ["true"]; $0.stdout = true; $0.stderr = true }).url
            try await stream(url)
        }
        samples.append(milliseconds(ContinuousClock.now - started))
    }
}
let logs = execContainer.isEmpty ? option("--logs") : ""
for i in 0..<(execContainer.isEmpty ? count : 0) {
    let uid = UUID().uuidString.lowercased()
    var config = Runtime_V1_PodSandboxConfig()
    config.metadata = .with {
        $0.name = "cri-bench-\(i)"
        $0.namespace = "cri-bench"
        $0.uid = uid
    }
    config.hostname = "cri-bench-\(i)"
    config.logDirectory = "\(logs)/cri-bench_\(i)_\(uid)"
    config.dnsConfig = .with {
        $0.servers = ["10.96.0.10"]
        $0.searches = ["cri-bench.svc.cluster.local", "svc.cluster.local", "cluster.local"]
        $0.options = ["ndots:5"]
    }
    config.linux = .with { $0.cgroupParent = "\(cgroupRoot)/besteffort/pod\(uid)" }
    let started = ContinuousClock.now
    let sandbox = try await runtime.runtime.runPodSandbox(.with { $0.config = config }).podSandboxID
    let container = try await runtime.runtime.createContainer(.with {
        $0.podSandboxID = sandbox
        $0.sandboxConfig = config
        $0.config = .with {
            $0.metadata = .with { $0.name = "web" }
            $0.image = .with { $0.image = image }
            $0.command = ["httpd", "-f", "-p", "8080"]
            $0.logPath = "web/0.log"
        }
    }).containerID
    _ = try await runtime.runtime.startContainer(.with { $0.containerID = container })
    samples.append(milliseconds(ContinuousClock.now - started))
    sandboxes.append(sandbox)
}
for sandbox in sandboxes {
    _ = try? await runtime.runtime.stopPodSandbox(.with { $0.podSandboxID = sandbox })
    _ = try? await runtime.runtime.removePodSandbox(.with { $0.podSandboxID = sandbox })
}
runtime.close()
let sorted = samples.sorted()
func percentile(_ p: Double) -> Double { sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)] }
let rounded = samples.map { ($0 * 10).rounded() / 10 }
print("{\"count\":\(count),\"p50_ms\":\((percentile(0.5) * 10).rounded() / 10),\"p95_ms\":\((percentile(0.95) * 10).rounded() / 10),\"samples_ms\":\(rounded)}")
