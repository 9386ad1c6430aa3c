import CRI
import Foundation

/// The labels and annotations the kubelet puts on what it creates through CRI, upstream's names:
/// they let a restarted kubelet find its pods' sandboxes and containers again.
enum CRIKeys {
    static let podName = "io.kubernetes.pod.name"
    static let podNamespace = "io.kubernetes.pod.namespace"
    static let podUID = "io.kubernetes.pod.uid"
    static let containerName = "io.kubernetes.container.name"
    static let restartCount = "io.kubernetes.container.restartCount"
    static let containerHash = "io.kubernetes.container.hash"
    static let terminationMessagePath = "io.kubernetes.container.terminationMessagePath"
    static let terminationMessagePolicy = "io.kubernetes.container.terminationMessagePolicy"
    static let terminationGracePeriod = "io.kubernetes.pod.terminationGracePeriod"
    /// Where the kubelet keeps the file mounted at the container's terminationMessagePath.
    static let terminationMessageFile = "dev.cubby.terminationMessageFile"
}

/// What the runtime holds of one pod: its sandboxes and containers, newest first, with the
/// containers' detailed status (exit codes, times, reasons).
struct RuntimePod: Sendable {
    var sandboxes: [Runtime_V1_PodSandbox] = []
    var containers: [Runtime_V1_ContainerStatus] = []
    /// The ready sandbox's address on the pod network.
    var podIP: String?
    /// Sandbox ids by container id, as listed.
    var sandboxOfContainer: [String: String] = [:]

    var readySandbox: Runtime_V1_PodSandbox? { sandboxes.first { $0.state == .sandboxReady } }

    /// The instances of one container, newest first.
    func instances(_ name: String) -> [Runtime_V1_ContainerStatus] {
        containers.filter { $0.metadata.name == name }
    }

    func sandboxID(of container: Runtime_V1_ContainerStatus) -> String? { sandboxOfContainer[container.id] }

    var running: [Runtime_V1_ContainerStatus] { containers.filter { $0.state == .containerRunning } }
}

extension RuntimeConnection {
    /// The sandboxes and containers the runtime has for the pod with this uid.
    func pod(uid: String) async throws -> RuntimePod {
        let label = [CRIKeys.podUID: uid]
        let sandboxes = try await runtime.listPodSandbox(.with { $0.filter.labelSelector = label }).items
        let containers = try await runtime.listContainers(.with { $0.filter.labelSelector = label }).containers
        var pod = RuntimePod()
        pod.sandboxes = sandboxes.sorted { $0.createdAt > $1.createdAt }
        for c in containers {
            pod.sandboxOfContainer[c.id] = c.podSandboxID
            if let status = try? await runtime.containerStatus(.with { $0.containerID = c.id }).status {
                pod.containers.append(status)
            }
        }
        pod.containers.sort { ($0.metadata.attempt, $0.createdAt) > ($1.metadata.attempt, $1.createdAt) }
        if let ready = pod.readySandbox {
            let status = try await runtime.podSandboxStatus(.with { $0.podSandboxID = ready.id }).status
            pod.podIP = status.network.ip.isEmpty ? nil : status.network.ip
        }
        return pod
    }
}

extension RuntimeConnection {
    /// Stops and removes a sandbox (its containers go with it), then what CNI may have left of it.
    func removeSandbox(_ id: String, layout: RuntimeLayout) async {
        _ = try? await runtime.stopPodSandbox(.with { $0.podSandboxID = id })
        _ = try? await runtime.removePodSandbox(.with { $0.podSandboxID = id })
        await PodNetwork.removeMasqueradeChain(layout, sandboxID: id)
    }
}
