import APIMachinery
import Client
import Foundation
import Resources

/// What a simulated node does with one of its pods, each step a status write the kubelet would
/// make: ContainerCreating, Running (with an IP), Ready after the probe delay, an exit after the
/// run time (Succeeded, Failed, or a restart with crash-loop back-off), and removal once deleted.
extension SimulatedNodes {
    public func reconcile(_ key: String) async throws {
        guard let pod = await pods.get(key), let nodeName = pod["spec"]["nodeName"].string, let index = indexes[nodeName],
              !MirrorPod.isMirror(pod) else { return }
        if let node = await nodes.get(nodeName), node["metadata"]["annotations"][Self.stoppedAnnotation].string == "true" { return }
        let (namespace, name) = Informer.split(key)
        if let deadline = pod["metadata"]["deletionTimestamp"].string.flatMap(APITime.parse) {
            // The containers "exit" after the pod's stop-seconds annotation (default 0: at once,
            // as on SIGTERM), and are killed when the grace period runs out if that is sooner.
            let grace = Double(pod["metadata"]["deletionGracePeriodSeconds"].int ?? 0)
            let stop = pod["metadata"]["annotations"][Self.stopSecondsAnnotation].string.flatMap(Double.init) ?? 0
            let exitAt = deadline.addingTimeInterval(-grace + min(stop, grace))
            if exitAt > Date() {
                if !stopping.contains(key) {
                    stopping.insert(key)
                    for c in Self.containers(pod) { kubelet(nodeName).normal(pod, "Killing", "Stopping container \(c["name"].string ?? "")") }
                }
                queue.add(key, after: .milliseconds(Int64(exitAt.timeIntervalSinceNow * 1000) + 1))
                return
            }
            stopping.remove(key)
            try await terminated(pod, killed: stop > grace, now: Date())
            var options = DeleteOptions()
            options.gracePeriodSeconds = 0
            options.preconditionUID = pod["metadata"]["uid"].string
            do throws(StatusError) { try await client.pods.delete(namespace, name, options: options) } catch {
                if error.code != 404 && error.code != 409 { throw error }
            }
            ips.release(key)
            return
        }
        let phase = pod["status"]["phase"].string ?? "Pending"
        if phase == "Succeeded" || phase == "Failed" { return }
        let now = Date()
        let statuses = pod["status"]["containerStatuses"].array ?? []
        let hostIP = Self.address(index: index)

        if statuses.isEmpty {
            try await writeStatus(namespace, name) { p in
                p["status"]["hostIP"] = .string(hostIP)
                p["status"]["hostIPs"] = [["ip": .string(hostIP)]]
                p["status"]["startTime"] = .string(APITime.format(now))
                Self.setConditions(&p, started: false, ready: false, now: now)
                p["status"]["containerStatuses"] = .array(Self.containers(p).map { c in
                    Self.containerStatus(c, state: ["waiting": ["reason": "ContainerCreating"]], ready: false, started: false)
                })
            }
            return
        }
        if phase == "Pending" {
            guard let ip = ips.allocate(key, node: index) else {
                throw StatusError.internalError("node \(nodeName) has no pod IPs left")
            }
            recordStart(pod, node: nodeName)
            let started = APITime.format(now)
            try await writeStatus(namespace, name) { p in
                p["status"]["phase"] = "Running"
                p["status"]["podIP"] = .string(ip)
                p["status"]["podIPs"] = [["ip": .string(ip)]]
                let ready = Self.readyAt(p, started: now) <= now
                Self.setConditions(&p, started: true, ready: ready, now: now)
                p["status"]["containerStatuses"] = .array(Self.containers(p).map { c in
                    Self.containerStatus(c, state: ["running": ["startedAt": .string(started)]], ready: ready, started: true)
                })
            }
            return
        }
        // Crashed and backing off: the containers start again once the back-off has passed.
        if let first = statuses.first, first["state"]["waiting"]["reason"] == "CrashLoopBackOff" {
            let restarts = first["restartCount"].int ?? 0
            let stopped = first["lastState"]["terminated"]["finishedAt"].string.flatMap(APITime.parse) ?? now
            let again = stopped.addingTimeInterval(Self.restartBackOff(afterRestarts: restarts - 1))
            guard again <= now else {
                queue.add(key, after: .milliseconds(Int64(again.timeIntervalSince(now) * 1000) + 1))
                return
            }
            recordStart(pod, node: nodeName)
            try await writeStatus(namespace, name) { p in Self.restart(&p, now: now) }
            return
        }
        // Running: readiness once the probe delay has passed; the containers exit once the run
        // time has, and the restart policy says what follows, as the kubelet's does.
        let startedAt = statuses.first?["state"]["running"]["startedAt"].string.flatMap(APITime.parse) ?? now
        if let finishAt = Self.finishAt(pod, started: startedAt) {
            if finishAt <= now {
                try await exit(pod, node: nodeName, startedAt: startedAt, now: now)
                return
            }
            queue.add(key, after: .milliseconds(Int64(finishAt.timeIntervalSince(now) * 1000) + 1))
        }
        let readyAt = Self.readyAt(pod, started: startedAt)
        let isReady = Conditions.status(pod, "Ready") == "True"
        if !isReady {
            if readyAt <= now {
                try await writeStatus(namespace, name) { p in
                    Self.setConditions(&p, started: true, ready: true, now: now)
                    Self.changeContainers(&p) { $0["ready"] = true }
                }
            } else {
                queue.add(key, after: .milliseconds(Int64(readyAt.timeIntervalSince(now) * 1000) + 1))
            }
        }
    }

    /// The containers exit with the pod's exit-code annotation (default 0). Under restartPolicy
    /// Never, or OnFailure after a success, the pod ends Succeeded or Failed; otherwise they
    /// restart, at once the first time and then after the kubelet's doubling back-off.
    func exit(_ pod: JSON, node: String, startedAt: Date, now: Date) async throws {
        let key = Informer.key(pod)
        let (namespace, name) = Informer.split(key)
        let code = Self.exitCode(pod)
        let policy = pod["spec"]["restartPolicy"].string ?? "Always"
        let terminated: JSON = ["exitCode": .int(code), "reason": code == 0 ? "Completed" : "Error",
                                "startedAt": .string(APITime.format(startedAt)), "finishedAt": .string(APITime.format(now))]
        guard policy == "Always" || (policy == "OnFailure" && code != 0) else {
            try await writeStatus(namespace, name) { p in
                p["status"]["phase"] = code == 0 ? "Succeeded" : "Failed"
                Self.setConditions(&p, started: false, ready: false, now: now, completed: true, failed: code != 0)
                Self.changeContainers(&p) { c in
                    c["state"] = ["terminated": terminated]
                    c["ready"] = false
                    c["started"] = false
                }
            }
            ips.release(key)
            return
        }
        let restarts = pod["status"]["containerStatuses"][0]["restartCount"].int ?? 0
        let backOff = Self.restartBackOff(afterRestarts: restarts)
        // How the kubelet names a pod in its messages.
        let podName = "\(name)_\(namespace ?? "")(\(pod["metadata"]["uid"].string ?? ""))"
        if backOff == 0 { recordStart(pod, node: node) }
        try await writeStatus(namespace, name) { p in
            Self.changeContainers(&p) { c in
                c["lastState"] = ["terminated": terminated]
                c["restartCount"] = .int((c["restartCount"].int ?? 0) + 1)
            }
            if backOff == 0 {
                Self.restart(&p, now: now)
                return
            }
            Self.setConditions(&p, started: true, ready: false, now: now)
            Self.changeContainers(&p) { c in
                let message = "back-off \(APITime.humanDuration(backOff)) restarting failed container=\(c["name"].string ?? "") pod=\(podName)"
                c["state"] = ["waiting": ["reason": "CrashLoopBackOff", "message": .string(message)]]
                c["ready"] = false
                c["started"] = false
            }
        }
        if backOff > 0 {
            for c in Self.containers(pod) {
                kubelet(node).warning(pod, "BackOff", "Back-off restarting failed container \(c["name"].string ?? "") in pod \(podName)")
            }
            queue.add(key, after: .milliseconds(Int64(backOff * 1000) + 1))
        }
    }

    /// A deleted pod's last status, written before the object goes as the kubelet writes it: its
    /// containers terminated (exit 0 on SIGTERM, 137 when killed at the end of the grace period),
    /// not ready, and the pod in a terminal phase; a watch waiting for Ready=False sees it.
    func terminated(_ pod: JSON, killed: Bool, now: Date) async throws {
        let (namespace, name) = Informer.split(Informer.key(pod))
        guard pod["status"]["phase"] != "Succeeded", pod["status"]["phase"] != "Failed",
              !(pod["status"]["containerStatuses"].array ?? []).isEmpty else { return }
        let code: Int64 = killed ? 137 : 0
        try await writeStatus(namespace, name) { p in
            p["status"]["phase"] = killed ? "Failed" : "Succeeded"
            Self.setConditions(&p, started: false, ready: false, now: now, completed: true, failed: killed)
            Self.changeContainers(&p) { c in
                var finished: JSON = ["exitCode": .int(code), "reason": killed ? "Error" : "Completed", "finishedAt": .string(APITime.format(now))]
                if let startedAt = c["state"]["running"]["startedAt"].string { finished["startedAt"] = .string(startedAt) }
                if !c["state"]["terminated"].isNull { return }
                c["state"] = ["terminated": finished]
                c["ready"] = false
                c["started"] = false
            }
        }
    }

    /// The kubelet's crash-loop back-off before the next start: none after the first exit, then
    /// 10 s doubling up to 5 minutes.
    static func restartBackOff(afterRestarts restarts: Int64) -> Double {
        restarts <= 0 ? 0 : min(300, 10 * pow(2, Double(restarts - 1)))
    }

    /// The containers running again (their restart already counted).
    static func restart(_ pod: inout JSON, now: Date) {
        let started = APITime.format(now)
        let ready = readyAt(pod, started: now) <= now
        setConditions(&pod, started: true, ready: ready, now: now)
        changeContainers(&pod) { c in
            c["state"] = ["running": ["startedAt": .string(started)]]
            c["ready"] = .bool(ready)
            c["started"] = true
        }
    }

    /// Applies `change` to each of the pod's container statuses.
    static func changeContainers(_ pod: inout JSON, _ change: (inout JSON) -> Void) {
        pod["status"]["containerStatuses"] = .array((pod["status"]["containerStatuses"].array ?? []).map { c in
            var c = c
            change(&c)
            return c
        })
    }

    /// What the kubelet records each time it starts a pod's containers.
    func recordStart(_ pod: JSON, node: String) {
        let events = kubelet(node)
        for c in Self.containers(pod) {
            let name = c["name"].string ?? "", image = c["image"].string ?? ""
            events.normal(pod, "Pulled", "Container image \"\(image)\" already present on machine and can be accessed by the pod")
            events.normal(pod, "Created", "Created container: \(name)")
            events.normal(pod, "Started", "Started container \(name)")
        }
    }

    /// The node's kubelet, as events name their source.
    func kubelet(_ node: String) -> EventRecorder { EventRecorder(client: client, component: "kubelet", host: node) }

    func writeStatus(_ namespace: String?, _ name: String, _ change: @escaping @Sendable (inout JSON) -> Void) async throws {
        do throws(StatusError) { try await client.pods.modify(namespace, name, status: true, change) } catch {
            if error.code != 404 { throw error }
        }
    }

    static func containers(_ pod: JSON) -> [JSON] { pod["spec"]["containers"].array ?? [] }

    static func containerStatus(_ container: JSON, state: JSON, ready: Bool, started: Bool) -> JSON {
        let name = container["name"].string ?? ""
        let image = container["image"].string ?? ""
        var status: JSON = ["name": .string(name), "image": .string(image), "imageID": "", "ready": .bool(ready),
                            "started": .bool(started), "restartCount": 0, "state": state, "lastState": .emptyObject]
        // Until the container is created it has no ID, and its image none resolved.
        if state["waiting"].isNull {
            status["imageID"] = .string("\(image)@sha256:\(stableHex(image, 64))")
            status["containerID"] = .string("simulated://\(stableHex(name + image, 64))")
        }
        return status
    }

    /// When the pod's containers pass their readiness probes: after the largest initialDelaySeconds.
    static func readyAt(_ pod: JSON, started: Date) -> Date {
        let delay = containers(pod).map { $0["readinessProbe"]["initialDelaySeconds"].int ?? 0 }.max() ?? 0
        return started.addingTimeInterval(Double(delay))
    }

    /// When the pod's containers exit: after the run-seconds annotation (default 1 s for a Job's
    /// pods and for pods given an exit code); nil for pods that run until stopped.
    static func finishAt(_ pod: JSON, started: Date) -> Date? {
        let annotations = pod["metadata"]["annotations"]
        let seconds = annotations[runSecondsAnnotation].string.flatMap(Double.init)
        let ownedByJob = pod["metadata"]["ownerReferences"].array?.contains { $0["kind"] == "Job" } ?? false
        guard seconds != nil || ownedByJob || !annotations[exitCodeAnnotation].isNull else { return nil }
        return started.addingTimeInterval(seconds ?? 1)
    }

    static func exitCode(_ pod: JSON) -> Int64 {
        pod["metadata"]["annotations"][exitCodeAnnotation].string.flatMap { Int64($0) } ?? 0
    }

    static func setConditions(_ pod: inout JSON, started: Bool, ready: Bool, now: Date, completed: Bool = false, failed: Bool = false) {
        let time = APITime.format(now)
        let names = containers(pod).compactMap { $0["name"].string }.joined(separator: " ")
        PodConditions.set(&pod, type: "PodReadyToStartContainers", status: started || completed ? "True" : "False", now: time)
        PodConditions.set(&pod, type: "Initialized", status: "True", reason: completed ? "PodCompleted" : nil, now: time)
        if ready {
            PodConditions.set(&pod, type: "Ready", status: "True", now: time)
            PodConditions.set(&pod, type: "ContainersReady", status: "True", now: time)
        } else {
            let reason = failed ? "PodFailed" : completed ? "PodCompleted" : "ContainersNotReady"
            let message: String? = completed ? nil : "containers with unready status: [\(names)]"
            PodConditions.set(&pod, type: "Ready", status: "False", reason: reason, message: message, now: time)
            PodConditions.set(&pod, type: "ContainersReady", status: "False", reason: reason, message: message, now: time)
        }
        PodConditions.set(&pod, type: "PodScheduled", status: "True", now: time)
    }
}
