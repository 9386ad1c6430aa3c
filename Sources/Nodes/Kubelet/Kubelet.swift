import APIMachinery
import CRI
import Client
import Foundation
import Resources
import Logging

/// The node agent that runs pods for real (DESIGN rule 6): each pod bound to its node becomes a
/// CRI sandbox with containers in the cluster's containerd, on the cluster's bridge. As upstream's
/// kubelet it is level-triggered: a pod's key is synced whenever the pod changes, the runtime
/// reports a change (a relist every second, upstream's PLEG), a probe result flips or a back-off
/// ends, and each sync makes the runtime match the pod and writes the status it sees.
public struct Kubelet: NodeAgent, Controller {
    public let name = "kubelet"
    public let queue = WorkQueue()
    /// Pods are independent; one slow image pull or graceful stop must not hold up the others.
    public var workers: Int { 8 }
    public var nodeNames: [String] { [nodeName] }

    public struct Configuration: Sendable {
        public var nodeName: String
        public var network: ClusterNetwork
        public var layout: RuntimeLayout
        public var kubeletVersion: String
        public var sandboxImage: String
        public var ctr: String

        public init(nodeName: String, network: ClusterNetwork, layout: RuntimeLayout, kubeletVersion: String, sandboxImage: String, ctr: String) {
            self.nodeName = nodeName
            self.network = network
            self.layout = layout
            self.kubeletVersion = kubeletVersion
            self.sandboxImage = sandboxImage
            self.ctr = ctr
        }
    }

    let config: Configuration
    var nodeName: String { config.nodeName }
    /// The node's address: the bridge's, which pods reach and which no network change moves.
    var nodeIP: String { config.network.gateway() }
    let client: Client
    let pods: Informer
    let runtime: RuntimeConnection
    let state = KubeletState()
    let probes: ProbeManager
    let volumes: VolumeManager
    let images: ImageManager
    let metrics = ResourceMetrics()
    let logger: Logger
    var events: EventRecorder { EventRecorder(client: client, component: "kubelet", host: nodeName) }

    public init(configuration: Configuration, client: Client, informers: InformerFactory, runtime: RuntimeConnection,
                tokens: @escaping TokenIssuer, logger: Logger) {
        config = configuration
        self.client = client
        self.runtime = runtime
        self.logger = logger
        pods = informers.pods
        let queue = queue
        probes = ProbeManager(runtime: runtime) { key in queue.add(key) }
        volumes = VolumeManager(client: client, podsDirectory: configuration.layout.podsDirectory, tokens: tokens)
        images = ImageManager(runtime: runtime, client: client)
    }

    public func run() async {
        await register(nodeName)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await heartbeats() }
            group.addTask { await relist() }
            group.addTask { await resync() }
            group.addTask { await ContainerLogRotation().run(runtime) }
            group.addTask { await metrics.run(runtime) }
            group.addTask { await run(logger: logger) }
        }
    }

    public func register() async {
        let queue = queue, nodeName = nodeName, probes = probes
        await pods.addHandler { event in
            let pod = event.object
            guard pod["spec"]["nodeName"].string == nodeName, !MirrorPod.isMirror(pod) else { return }
            if case .deleted = event {
                if let uid = pod["metadata"]["uid"].string { Task { await probes.forget(podUID: uid) } }
            }
            queue.add(Informer.key(pod))
        }
    }

    public func reconcile(_ key: String) async throws {
        guard let pod = await pods.get(key), pod["spec"]["nodeName"].string == nodeName, !MirrorPod.isMirror(pod),
              let uid = pod["metadata"]["uid"].string else { return }
        let current = try await runtime.pod(uid: uid)
        if !pod["metadata"]["deletionTimestamp"].isNull {
            try await terminate(pod, current)
            return
        }
        let phase = pod["status"]["phase"].string
        if phase == "Succeeded" || phase == "Failed" {
            if current.readySandbox != nil { await killPod(pod, current, gracePeriod: Self.gracePeriod(pod)) }
            await probes.forget(podUID: uid)
            return
        }
        // activeDeadlineSeconds: past it, the pod is killed and fails, as upstream's kubelet does.
        if let seconds = pod["spec"]["activeDeadlineSeconds"].int, let started = pod["status"]["startTime"].string.flatMap(APITime.parse) {
            let remaining = started.addingTimeInterval(Double(seconds)).timeIntervalSinceNow
            if remaining <= 0 {
                let message = "Pod was active on the node longer than the specified deadline"
                events.warning(pod, "DeadlineExceeded", message)
                await killPod(pod, current, gracePeriod: Self.gracePeriod(pod))
                try await writeStatus(pod, try await runtime.pod(uid: uid), failure: (reason: "DeadlineExceeded", message: message))
                return
            }
            queue.add(key, after: .milliseconds(Int64(remaining * 1000) + 50))
        }
        try await sync(pod, current)
    }

    /// Every pod now and then: configMap, secret and token volumes follow their sources, and a
    /// missed change is picked up.
    func resync() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(10))
            for pod in await pods.list(where: { $0["spec"]["nodeName"].string == nodeName }) { queue.add(Informer.key(pod)) }
        }
    }

    static func gracePeriod(_ pod: JSON) -> Int64 {
        pod["metadata"]["deletionGracePeriodSeconds"].int ?? pod["spec"]["terminationGracePeriodSeconds"].int ?? 30
    }

    /// How the kubelet names a pod in its messages: NAME_NAMESPACE(UID).
    static func podDescription(_ pod: JSON) -> String {
        let meta = pod["metadata"]
        return "\(meta["name"].string ?? "")_\(meta["namespace"].string ?? "")(\(meta["uid"].string ?? ""))"
    }
}

/// Mints a service-account token for a pod's projected volume, as the TokenRequest API does:
/// namespace, account, audiences, lifetime in seconds and the pod it is bound to (name, uid).
public typealias TokenIssuer = @Sendable (_ namespace: String, _ serviceAccount: String, _ audiences: [String], _ seconds: Int64,
                                          _ pod: (name: String, uid: String)) async throws -> (token: String, expiration: Date)
