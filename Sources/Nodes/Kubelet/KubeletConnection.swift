import APIMachinery
import CRI
import Foundation

/// What the API server asks of the kubelet. `kubectl logs`: which instance of the container is
/// meant (the current one, or with `previous` the one before it), refused in upstream's words
/// when there is none, and its CRI log file read as the options say. `kubectl top`: the usage
/// its resource metrics measured.
extension Kubelet: NodeConnection {
    public func usage() async -> [NodeUsage] {
        metrics.usage(node: nodeName).map { [$0] } ?? []
    }

    public func containerLog(pod: JSON, options: PodLogOptions) async throws(StatusError) -> AsyncThrowingStream<[UInt8], any Error> {
        let podName = pod["metadata"]["name"].string ?? ""
        let container = options.container
        let statuses = ["containerStatuses", "initContainerStatuses", "ephemeralContainerStatuses"]
            .flatMap { pod["status"][$0].array ?? [] }
        guard let status = statuses.first(where: { $0["name"].string == container }) else {
            throw .badRequest("container \"\(container)\" in pod \"\(podName)\" is not available")
        }
        let id: String?
        if options.previous {
            id = status["lastState"]["terminated"]["containerID"].string
            guard id != nil else { throw .badRequest("previous terminated container \"\(container)\" in pod \"\(podName)\" not found") }
        } else if let running = status["state"]["running"].object, !running.isEmpty {
            id = status["containerID"].string
        } else if !status["state"]["terminated"].isNull {
            id = status["state"]["terminated"]["containerID"].string ?? status["containerID"].string
        } else if let last = status["lastState"]["terminated"]["containerID"].string {
            // Waiting to restart (a crash loop): the last instance's log, as upstream shows it.
            id = last
        } else {
            let reason = switch status["state"]["waiting"]["reason"].string ?? "ContainerCreating" {
            case "ErrImagePull": "image can't be pulled"
            case "ImagePullBackOff": "trying and failing to pull image"
            case let other: other
            }
            throw .badRequest("container \"\(container)\" in pod \"\(podName)\" is waiting to start: \(reason)")
        }
        guard let containerID = id?.split(separator: "/").last.map(String.init), !containerID.isEmpty,
              let found = try? await runtime.runtime.containerStatus(.with { $0.containerID = containerID }).status else {
            throw .badRequest("container \"\(container)\" in pod \"\(podName)\" is not available")
        }
        let runtime = runtime
        return ContainerLogReader(path: found.logPath, options: options) {
            (try? await runtime.runtime.containerStatus(.with { $0.containerID = containerID }).status.state) == .containerRunning
        }.stream()
    }
}

/// `kubectl exec`, `attach`, `port-forward`: the kubelet finds the running container (or the
/// pod's ready sandbox) and asks CRI for a stream; containerd's streaming server serves it at
/// the URL it answers, which the API server connects to.
extension Kubelet {
    public func streamURL(pod: JSON, request: StreamRequest) async throws(StatusError) -> String {
        let podName = pod["metadata"]["name"].string ?? ""
        do {
            switch request {
            case .portForward:
                let sandboxes = try await runtime.runtime.listPodSandbox(.with {
                    $0.filter.labelSelector = [CRIKeys.podUID: pod["metadata"]["uid"].string ?? ""]
                    $0.filter.state = .with { $0.state = .sandboxReady }
                }).items
                guard let sandbox = sandboxes.first else { throw StatusError.badRequest("pod \"\(podName)\" has no running sandbox to forward ports to") }
                return try await runtime.runtime.portForward(.with { $0.podSandboxID = sandbox.id }).url
            case .exec(let container, let command, let stdin, let stdout, let stderr, let tty):
                let id = try await runningContainer(container, of: pod)
                return try await runtime.runtime.exec(.with {
                    $0.containerID = id; $0.cmd = command; $0.tty = tty; $0.stdin = stdin; $0.stdout = stdout; $0.stderr = stderr
                }).url
            case .attach(let container, let stdin, let stdout, let stderr, let tty):
                let id = try await runningContainer(container, of: pod)
                return try await runtime.runtime.attach(.with {
                    $0.containerID = id; $0.tty = tty; $0.stdin = stdin; $0.stdout = stdout; $0.stderr = stderr
                }).url
            }
        } catch let error as StatusError {
            throw error
        } catch {
            throw .internalError("container runtime: \(error)")
        }
    }

    /// The running instance of a container: as the pod's status names it (no runtime call on the
    /// way of an exec), else as the runtime has it (a status not yet written).
    func runningContainer(_ name: String, of pod: JSON) async throws(StatusError) -> String {
        let statuses = ["containerStatuses", "initContainerStatuses", "ephemeralContainerStatuses"].flatMap { pod["status"][$0].array ?? [] }
        if let status = statuses.first(where: { $0["name"].string == name }), !status["state"]["running"].isNull,
           let id = status["containerID"].string?.split(separator: "/").last, !id.isEmpty {
            return String(id)
        }
        let found: RuntimePod
        do { found = try await runtime.pod(uid: pod["metadata"]["uid"].string ?? "") } catch { throw .internalError("container runtime: \(error)") }
        return try runningContainer(name, in: found)
    }

    /// The running instance of a container, refused in the kubelet's words when there is none.
    func runningContainer(_ name: String, in pod: RuntimePod) throws(StatusError) -> String {
        guard let running = pod.instances(name).first(where: { $0.state == .containerRunning }) else {
            throw .badRequest("container not found (\"\(name)\")")
        }
        return running.id
    }
}
