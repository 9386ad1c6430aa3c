import APIMachinery
import CRI
import Client
import Foundation
import GRPCCore

/// How pods end on a node: a deleted pod's containers get their preStop hooks and SIGTERM, then
/// SIGKILL when the grace period runs out; the sandbox and its network are torn down, volumes
/// and logs removed, and the pod object deleted for good. Runtime pods no pod object claims any
/// more (force-deleted, or deleted while localkube was down) go the same way.
extension Kubelet {
    func terminate(_ pod: JSON, _ current: RuntimePod) async throws {
        let uid = pod["metadata"]["uid"].string ?? ""
        var grace = Self.gracePeriod(pod)
        if let deadline = pod["metadata"]["deletionTimestamp"].string.flatMap(APITime.parse) {
            grace = max(0, min(grace, Int64(deadline.timeIntervalSinceNow.rounded(.up))))
        }
        await killPod(pod, current, gracePeriod: grace, runPreStop: true)
        await remove(current, uid: uid)
        let (namespace, name) = Informer.split(Informer.key(pod))
        var options = DeleteOptions()
        options.gracePeriodSeconds = 0
        options.preconditionUID = uid
        do throws(StatusError) { try await client.pods.delete(namespace, name, options: options) } catch {
            if error.code != 404 && error.code != 409 { throw error }
        }
    }

    /// Stops the pod's running containers (each within `gracePeriod`, after its preStop hook when
    /// asked) and its sandboxes; the containers stay for their logs and exit codes.
    func killPod(_ pod: JSON, _ current: RuntimePod, gracePeriod: Int64, runPreStop: Bool = false) async {
        let uid = pod["metadata"]["uid"].string ?? ""
        let specs = (pod["spec"]["containers"].array ?? []) + (pod["spec"]["initContainers"].array ?? [])
        let running = current.containers.filter { $0.state == .containerRunning || $0.state == .containerCreated }
        if !running.isEmpty, await state.startKilling(uid) {
            for c in running { events.normal(pod, "Killing", "Stopping container \(c.metadata.name)") }
        }
        await withTaskGroup(of: Void.self) { group in
            for c in running {
                let spec = specs.first { $0["name"].string == c.metadata.name } ?? ["name": .string(c.metadata.name)]
                group.addTask {
                    var remaining = gracePeriod
                    if runPreStop, let hook = spec["lifecycle"]["preStop"].object.map(JSON.object), c.state == .containerRunning {
                        let started = ContinuousClock.now
                        _ = await Prober(runtime: runtime).run(hook, container: spec, containerID: c.id, podIP: current.podIP ?? nodeIP,
                                                                timeout: .seconds(gracePeriod))
                        remaining = max(0, gracePeriod - (ContinuousClock.now - started).components.seconds)
                    }
                    await stopContainer(pod, spec, c.id, gracePeriod: remaining)
                }
            }
        }
        for sandbox in current.sandboxes where sandbox.state == .sandboxReady {
            _ = try? await runtime.runtime.stopPodSandbox(.with { $0.podSandboxID = sandbox.id })
        }
        await probes.forget(podUID: uid)
    }

    /// StopContainer: SIGTERM (or the image's stop signal), SIGKILL after `gracePeriod` seconds.
    func stopContainer(_ pod: JSON, _ container: JSON, _ id: String, gracePeriod: Int64) async {
        var options = CallOptions.defaults
        options.timeout = .seconds(gracePeriod + 30)
        _ = try? await runtime.runtime.stopContainer(.with {
            $0.containerID = id
            $0.timeout = gracePeriod
        }, options: options)
    }

    /// Removes the pod's sandboxes (with their containers), volumes, logs and what the kubelet
    /// remembered of it.
    func remove(_ current: RuntimePod, uid: String) async {
        for sandbox in current.sandboxes { await runtime.removeSandbox(sandbox.id, layout: config.layout) }
        if let meta = current.sandboxes.first?.metadata {
            let pod: JSON = ["metadata": ["namespace": .string(meta.namespace), "name": .string(meta.name), "uid": .string(meta.uid)]]
            try? FileManager.default.removeItem(at: podLogDirectory(pod))
        }
        await volumes.tearDown(podUID: uid)
        await probes.forget(podUID: uid)
        await state.forget(podUID: uid)
    }

    /// Runtime pods whose pod object is gone (or is another pod of the same name now): stopped
    /// and removed, as upstream's housekeeping does.
    func removeOrphans(_ uids: Set<String>) async {
        let known = Set(await pods.list(where: { $0["spec"]["nodeName"].string == nodeName }).compactMap { $0["metadata"]["uid"].string })
        for uid in uids.subtracting(known) {
            guard let current = try? await runtime.pod(uid: uid) else { continue }
            let pod: JSON = ["metadata": ["uid": .string(uid), "name": .string(current.sandboxes.first?.metadata.name ?? ""),
                                          "namespace": .string(current.sandboxes.first?.metadata.namespace ?? "")]]
            for c in current.containers where c.state == .containerRunning {
                await stopContainer(pod, ["name": .string(c.metadata.name)], c.id, gracePeriod: 2)
            }
            await remove(current, uid: uid)
        }
    }

    /// Every pod stopped and removed, within a few seconds each: what `cubby stop` does to the
    /// node. The pod objects stay; the next start runs them again in new sandboxes.
    public func stopAllPods(gracePeriodCap: Int64 = 5) async {
        guard let sandboxes = try? await runtime.runtime.listPodSandbox(.init()).items else { return }
        let uids = Set(sandboxes.compactMap { $0.labels[CRIKeys.podUID] })
        await withTaskGroup(of: Void.self) { group in
            for uid in uids {
                group.addTask {
                    guard let current = try? await runtime.pod(uid: uid) else { return }
                    let pod = await pods.list { $0["metadata"]["uid"].string == uid }.first ?? ["metadata": ["uid": .string(uid)]]
                    let grace = min(gracePeriodCap, pod["spec"]["terminationGracePeriodSeconds"].int ?? 30)
                    await withTaskGroup(of: Void.self) { inner in
                        for c in current.containers where c.state == .containerRunning {
                            inner.addTask { await stopContainer(pod, ["name": .string(c.metadata.name)], c.id, gracePeriod: grace) }
                        }
                    }
                    for sandbox in current.sandboxes { await runtime.removeSandbox(sandbox.id, layout: config.layout) }
                    await volumes.unmount(podUID: uid)
                }
            }
        }
    }
}
