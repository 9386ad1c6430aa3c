import APIMachinery
import CRI
import Client
import Foundation

/// The kubelet's probe workers: one per running container and probe kind, each probing after its
/// initialDelaySeconds and then every periodSeconds, flipping its result only after
/// successThreshold passes or failureThreshold failures in a row, recording each failure as an
/// Unhealthy event. Liveness and readiness wait for the startup probe to pass. A flip queues the
/// pod: a failed liveness (or startup) probe gets the container restarted, readiness its Ready.
actor ProbeManager {
    enum Kind: String, CaseIterable {
        case startup, liveness, readiness

        var field: String { rawValue + "Probe" }
        var title: String { rawValue.prefix(1).uppercased() + rawValue.dropFirst() }
    }

    struct Key: Hashable {
        var containerID: String
        var kind: Kind
    }

    struct Worker {
        var podUID: String
        var task: Task<Void, Never>
    }

    let runtime: RuntimeConnection
    let changed: @Sendable (String) -> Void
    var workers: [Key: Worker] = [:]
    var results: [Key: Bool] = [:]

    init(runtime: RuntimeConnection, changed: @escaping @Sendable (String) -> Void) {
        self.runtime = runtime
        self.changed = changed
    }

    /// Starts the workers a running container's probes need (once per container instance).
    func ensure(_ pod: JSON, _ container: JSON, _ status: Runtime_V1_ContainerStatus, podIP: String, events: EventRecorder) {
        let uid = pod["metadata"]["uid"].string ?? ""
        for kind in Kind.allCases where !container[kind.field].isNull {
            let key = Key(containerID: status.id, kind: kind)
            guard workers[key] == nil else { continue }
            let started = Date(timeIntervalSince1970: Double(status.startedAt) / 1e9)
            let probe = container[kind.field], podKey = Informer.key(pod), prober = Prober(runtime: runtime)
            let hasStartup = !container[Kind.startup.field].isNull, changed = changed
            let task = Task { [weak self] in
                let delay = Double(probe["initialDelaySeconds"].int ?? 0) - Date().timeIntervalSince(started)
                if delay > 0 { try? await Task.sleep(for: .milliseconds(Int64(delay * 1000))) }
                let period = Duration.seconds(max(1, probe["periodSeconds"].int ?? 10))
                let timeout = Duration.seconds(max(1, probe["timeoutSeconds"].int ?? 1))
                let successes = kind == .readiness ? max(1, probe["successThreshold"].int ?? 1) : 1
                let failures = max(1, probe["failureThreshold"].int ?? 3)
                var passed: Int64 = 0, failed: Int64 = 0
                while !Task.isCancelled {
                    if kind != .startup, hasStartup, await self?.result(Key(containerID: status.id, kind: .startup)) != true {
                        try? await Task.sleep(for: .milliseconds(200))
                        continue
                    }
                    let outcome = await prober.run(probe, container: container, containerID: status.id, podIP: podIP, timeout: timeout)
                    if Task.isCancelled { return }
                    if case .failure(let message) = outcome {
                        passed = 0
                        failed += 1
                        events.warning(pod, "Unhealthy", "\(kind.title) probe failed: \(message)")
                        if failed >= failures, await self?.set(key, false) == true { changed(podKey) }
                    } else {
                        failed = 0
                        passed += 1
                        if passed >= successes, await self?.set(key, true) == true { changed(podKey) }
                    }
                    // A liveness or startup failure ends this instance; a passed startup probe is done.
                    let ended = await self?.result(key) == false
                    if kind != .readiness && (ended || (kind == .startup && passed > 0)) { return }
                    try? await Task.sleep(for: period)
                }
            }
            workers[key] = Worker(podUID: uid, task: task)
        }
    }

    /// Records a result; true if it changed.
    func set(_ key: Key, _ value: Bool) -> Bool {
        defer { results[key] = value }
        return results[key] != value
    }

    func result(_ key: Key) -> Bool? { results[key] }

    /// Whether the container has started (its startup probe passed, or it has none).
    func started(_ container: JSON, containerID: String) -> Bool {
        container[Kind.startup.field].isNull || results[Key(containerID: containerID, kind: .startup)] == true
    }

    /// Whether the container is ready (started, and its readiness probe passing, if any).
    func ready(_ container: JSON, containerID: String) -> Bool {
        started(container, containerID: containerID)
            && (container[Kind.readiness.field].isNull || results[Key(containerID: containerID, kind: .readiness)] == true)
    }

    /// Why the container must be restarted, in upstream's words, if a probe says so.
    func killReason(_ podUID: String, _ name: String, containerID: String) -> String? {
        if results[Key(containerID: containerID, kind: .liveness)] == false { return "failed liveness probe" }
        if results[Key(containerID: containerID, kind: .startup)] == false { return "failed startup probe" }
        return nil
    }

    /// Stops the workers of a pod's containers that are not running any more.
    func prune(podUID: String, running: Set<String>) {
        for (key, worker) in workers where worker.podUID == podUID && !running.contains(key.containerID) {
            worker.task.cancel()
            workers[key] = nil
            results[key] = nil
        }
    }

    func forget(podUID: String) { prune(podUID: podUID, running: []) }
}
