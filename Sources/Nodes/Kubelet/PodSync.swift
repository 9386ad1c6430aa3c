import APIMachinery
import CRI
import Client
import Foundation
import GRPCCore

/// One sync of a running pod, as upstream's SyncPod: volumes ready, a sandbox with its network,
/// init containers one at a time in order, then every container started (or restarted as the
/// restart policy and crash-loop back-off say), liveness failures acted on, and the status written.
extension Kubelet {
    func sync(_ pod: JSON, _ observed: RuntimePod) async throws {
        let uid = pod["metadata"]["uid"].string ?? ""
        var current = observed
        let mounts: PodMounts
        do {
            mounts = try await volumes.setUp(pod)
        } catch {
            events.warning(pod, "FailedMount", "\(error)")
            try await writeStatus(pod, current)
            throw error
        }

        // A sandbox that died (or was stopped with the cluster) is replaced, and with it every
        // container: they shared its namespaces.
        if current.readySandbox == nil {
            if !current.sandboxes.isEmpty {
                events.normal(pod, "SandboxChanged", "Pod sandbox changed, it will be killed and re-created.")
                await killPod(pod, current, gracePeriod: 2)
            }
            if pod["spec"]["restartPolicy"].string == "Never" && Self.hasRun(pod) {
                // A pod that never restarts is not started again in a new sandbox.
                try await writeStatus(pod, current, lostContainers: true)
                return
            }
            try await ensureSandboxImage()
            let attempt = current.sandboxes.first.map { $0.metadata.attempt + 1 } ?? 0
            let sandboxConfig = self.sandboxConfig(pod, attempt: attempt)
            do {
                _ = try await runtime.runtime.runPodSandbox(.with { $0.config = sandboxConfig })
            } catch {
                events.warning(pod, "FailedCreatePodSandBox", "Failed to create pod sandbox: \(Self.describe(error))")
                throw error
            }
            current = try await runtime.pod(uid: uid)
        }
        guard let sandbox = current.readySandbox else { return }
        let sandboxConfig = self.sandboxConfig(pod, attempt: sandbox.metadata.attempt)
        try volumes.writeHosts(pod, podIP: current.podIP ?? nodeIP)

        // Init containers, in order: each must have succeeded in this sandbox before the next
        // starts (a sidecar, restartPolicy Always, only has to be running).
        var initialized = true
        let policy = pod["spec"]["restartPolicy"].string ?? "Always"
        for container in pod["spec"]["initContainers"].array ?? [] {
            let name = container["name"].string ?? ""
            let sidecar = container["restartPolicy"].string == "Always"
            if let latest = current.instances(name).first(where: { current.sandboxID(of: $0) == sandbox.id }) {
                if latest.state == .containerRunning && sidecar { continue }
                if latest.state == .containerExited && latest.exitCode == 0 && !sidecar { continue }
                // Running or being started: wait for it. Failed under Never: the pod has failed.
                if latest.state != .containerExited || (policy == "Never" && !sidecar) {
                    initialized = false
                    break
                }
            }
            let started = await startIfDue(pod, container, current, sandbox, sandboxConfig, mounts, isInit: true)
            if sidecar && started { continue }
            initialized = false
            break
        }

        if initialized {
            for container in pod["spec"]["containers"].array ?? [] {
                let name = container["name"].string ?? ""
                let latest = current.instances(name).first
                let inSandbox = latest.map { current.sandboxID(of: $0) == sandbox.id } ?? false
                if let latest, inSandbox, latest.state == .containerRunning {
                    await probes.ensure(pod, container, latest, podIP: current.podIP ?? nodeIP, events: events)
                    if let failure = await probes.killReason(uid, name, containerID: latest.id) {
                        events.normal(pod, "Killing", "Container \(name) \(failure), will be restarted")
                        await stopContainer(pod, container, latest.id, gracePeriod: pod["spec"]["terminationGracePeriodSeconds"].int ?? 30)
                    } else if latest.annotations[CRIKeys.containerHash] != Self.hash(container) {
                        events.normal(pod, "Killing", "Container \(name) definition changed, will be restarted")
                        await stopContainer(pod, container, latest.id, gracePeriod: pod["spec"]["terminationGracePeriodSeconds"].int ?? 30)
                    }
                    continue
                }
                if let latest, latest.state == .containerExited, !Self.shouldRestart(policy, exitCode: latest.exitCode) { continue }
                if latest == nil, policy == "Never", Self.ran(pod, name) { continue }
                _ = await startIfDue(pod, container, current, sandbox, sandboxConfig, mounts, isInit: false)
            }
            // Ephemeral containers (kubectl debug) run once in the running pod, never restarted.
            for container in pod["spec"]["ephemeralContainers"].array ?? [] {
                let name = container["name"].string ?? ""
                guard current.instances(name).isEmpty, !Self.ran(pod, name, in: "ephemeralContainerStatuses") else { continue }
                _ = await startContainer(pod, container, sandbox: sandbox, sandboxConfig: sandboxConfig, mounts: mounts,
                                         attempt: 0, restartCount: 0, current: current)
            }
        }
        current = try await runtime.pod(uid: uid)
        try await writeStatus(pod, current)
    }

    static func shouldRestart(_ policy: String, exitCode: Int32) -> Bool {
        policy == "Always" || (policy == "OnFailure" && exitCode != 0)
    }

    /// Whether the API's status shows containers of this pod ran before (in a sandbox the runtime
    /// no longer has: the node was stopped, or the runtime lost it).
    static func hasRun(_ pod: JSON) -> Bool {
        (pod["spec"]["containers"].array ?? []).contains { ran(pod, $0["name"].string ?? "") }
    }

    static func ran(_ pod: JSON, _ name: String, in list: String = "containerStatuses") -> Bool {
        guard let s = (pod["status"][list].array ?? []).first(where: { $0["name"].string == name }) else { return false }
        return !s["state"]["running"].isNull || !s["state"]["terminated"].isNull || !s["lastState"]["terminated"].isNull
    }

    /// The container's spec hash: only its image may change on a running pod, and a change
    /// restarts it.
    static func hash(_ container: JSON) -> String {
        var h: UInt64 = 0xcbf29ce484222325
        for byte in (container["image"].string ?? "").utf8 { h = (h ^ UInt64(byte)) &* 0x100000001b3 }
        return String(h, radix: 16)
    }

    /// Starts the container unless its crash-loop back-off says wait; true if it was started.
    func startIfDue(_ pod: JSON, _ container: JSON, _ current: RuntimePod, _ sandbox: Runtime_V1_PodSandbox,
                    _ sandboxConfig: Runtime_V1_PodSandboxConfig, _ mounts: PodMounts, isInit: Bool) async -> Bool {
        let uid = pod["metadata"]["uid"].string ?? ""
        let name = container["name"].string ?? ""
        let previous = current.instances(name).first
        if let previous, previous.state == .containerExited {
            let finished = Date(timeIntervalSince1970: Double(previous.finishedAt) / 1e9)
            if let wait = await state.crashLoopDelay(uid, name, finishedAt: finished) {
                let delay = await state.crashLoopCurrent(uid, name)
                let message = "back-off \(APITime.humanDuration(delay)) restarting failed container=\(name) pod=\(Self.podDescription(pod))"
                if await state.waiting(uid, name)?.reason != "CrashLoopBackOff" {
                    events.warning(pod, "BackOff", "Back-off restarting failed container \(name) in pod \(Self.podDescription(pod))")
                }
                await state.setWaiting(uid, name, .init(reason: "CrashLoopBackOff", message: message))
                queue.add(Informer.key(pod), after: .milliseconds(Int64(wait * 1000) + 50))
                return false
            }
        }
        let restarts: Int64 = if let previous {
            (Int64(previous.annotations[CRIKeys.restartCount] ?? "") ?? 0) + 1
        } else if Self.ran(pod, name) {
            ((pod["status"][isInit ? "initContainerStatuses" : "containerStatuses"].array ?? [])
                .first { $0["name"].string == name }?["restartCount"].int ?? 0) + 1
        } else {
            0
        }
        return await startContainer(pod, container, sandbox: sandbox, sandboxConfig: sandboxConfig, mounts: mounts,
                           attempt: previous.map { $0.metadata.attempt + 1 } ?? 0, restartCount: restarts, current: current)
    }

    /// Pull, create, start, postStart hook: each failure recorded as the container's waiting
    /// reason in upstream's words, and as an event.
    func startContainer(_ pod: JSON, _ container: JSON, sandbox: Runtime_V1_PodSandbox, sandboxConfig: Runtime_V1_PodSandboxConfig,
               mounts: PodMounts, attempt: UInt32, restartCount: Int64, current: RuntimePod) async -> Bool {
        let uid = pod["metadata"]["uid"].string ?? ""
        let name = container["name"].string ?? ""
        let imageRef: String
        switch await images.ensure(pod, container, state: state, events: events) {
        case .success(let ref):
            imageRef = ref
        case .failure(let waiting):
            await state.setWaiting(uid, name, waiting)
            if let retry = waiting.retryAfter { queue.add(Informer.key(pod), after: .milliseconds(Int64(retry * 1000) + 50)) }
            return false
        }
        var config: Runtime_V1_ContainerConfig
        do {
            config = try await containerConfig(pod, container, imageRef: imageRef, mounts: mounts, podIP: current.podIP ?? nodeIP,
                                               attempt: attempt, restartCount: restartCount)
        } catch {
            events.warning(pod, "Failed", "Error: \(error)")
            await state.setWaiting(uid, name, .init(reason: "CreateContainerConfigError", message: "\(error)"))
            return false
        }
        // An ephemeral container with a target shares that container's process namespace.
        if let target = container["targetContainerName"].string, config.linux.securityContext.namespaceOptions.pid == .container,
           let running = current.instances(target).first(where: { $0.state == .containerRunning }) {
            config.linux.securityContext.namespaceOptions.pid = .target
            config.linux.securityContext.namespaceOptions.targetID = running.id
        }
        /// A runtime call that failed: the container waits with `reason`, the event quotes the runtime.
        func failed(_ reason: String, _ error: any Error) async -> Bool {
            let message = Self.describe(error)
            events.warning(pod, "Failed", "Error: \(message)")
            await state.setWaiting(uid, name, .init(reason: reason, message: message))
            return false
        }
        let id: String
        do {
            id = try await runtime.runtime.createContainer(.with {
                $0.podSandboxID = sandbox.id
                $0.config = config
                $0.sandboxConfig = sandboxConfig
            }).containerID
        } catch {
            return await failed("CreateContainerError", error)
        }
        events.normal(pod, "Created", "Created container: \(name)")
        do {
            _ = try await runtime.runtime.startContainer(.with { $0.containerID = id })
        } catch {
            return await failed("RunContainerError", error)
        }
        events.normal(pod, "Started", "Started container \(name)")
        await state.setWaiting(uid, name, nil)
        if let hook = container["lifecycle"]["postStart"].object.map(JSON.object) {
            let probe = Prober(runtime: runtime)
            if case .failure(let message) = await probe.run(hook, container: container, containerID: id, podIP: current.podIP ?? nodeIP,
                                                             timeout: .seconds(Self.gracePeriod(pod))) {
                events.warning(pod, "FailedPostStartHook", "PostStartHook failed")
                await state.setWaiting(uid, name, .init(reason: "PostStartHookError", message: message))
                await stopContainer(pod, container, id, gracePeriod: Self.gracePeriod(pod))
            }
        }
        await removeDeadInstances(current, of: name, keeping: id)
        return true
    }

    /// Upstream keeps one exited instance of each container (for `logs --previous`); older ones go.
    func removeDeadInstances(_ current: RuntimePod, of name: String, keeping id: String) async {
        let dead = current.instances(name).filter { $0.id != id && $0.state == .containerExited }
        for old in dead.dropFirst() {
            _ = try? await runtime.runtime.removeContainer(.with { $0.containerID = old.id })
        }
    }

    /// A sandbox image is needed before the first pod: pulled, or made offline.
    func ensureSandboxImage() async throws {
        if await state.sandboxImageReady { return }
        try await SandboxImage.ensure(config.sandboxImage, runtime: runtime, layout: config.layout, ctr: config.ctr, logger: logger)
        await state.markSandboxImageReady()
    }

    /// A CRI error as Go's gRPC prints it, which is how upstream's messages quote the runtime.
    static func describe(_ error: any Error) -> String {
        if let rpc = error as? RPCError {
            return "rpc error: code = \(goCode(rpc.code)) desc = \(rpc.message)"
        }
        return "\(error)"
    }

    static func goCode(_ code: RPCError.Code) -> String {
        switch code {
        case .cancelled: "Canceled"
        case .unknown: "Unknown"
        case .invalidArgument: "InvalidArgument"
        case .deadlineExceeded: "DeadlineExceeded"
        case .notFound: "NotFound"
        case .alreadyExists: "AlreadyExists"
        case .permissionDenied: "PermissionDenied"
        case .resourceExhausted: "ResourceExhausted"
        case .failedPrecondition: "FailedPrecondition"
        case .aborted: "Aborted"
        case .outOfRange: "OutOfRange"
        case .unimplemented: "Unimplemented"
        case .internalError: "Internal"
        case .unavailable: "Unavailable"
        case .dataLoss: "DataLoss"
        case .unauthenticated: "Unauthenticated"
        default: "Unknown"
        }
    }
}
