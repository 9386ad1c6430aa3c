import APIMachinery
import CRI
import Client
import Foundation
import Resources

/// The status the kubelet writes for a pod, from what the runtime holds, as upstream's
/// generateAPIPodStatus: each container's state, last state, restart count, ids and readiness;
/// the phase by upstream's rules; the conditions; the pod's and node's addresses. Written only
/// when it changed.
extension Kubelet {
    /// `lostContainers`: the runtime no longer has containers the status shows (the node was
    /// stopped) and they will not run again: they are reported terminated, reason Unknown.
    /// `failure`: the pod has failed for a reason of the kubelet's (its deadline passed).
    func writeStatus(_ pod: JSON, _ current: RuntimePod, lostContainers: Bool = false,
                     failure: (reason: String, message: String)? = nil) async throws {
        let uid = pod["metadata"]["uid"].string ?? ""
        var waiting: [String: KubeletState.Waiting] = [:]
        var ready: Set<String> = [], started: Set<String> = []
        for c in (pod["spec"]["initContainers"].array ?? []) + (pod["spec"]["containers"].array ?? []) {
            let name = c["name"].string ?? ""
            waiting[name] = await state.waiting(uid, name)
            if let running = current.instances(name).first, running.state == .containerRunning {
                if await probes.ready(c, containerID: running.id) { ready.insert(running.id) }
                if await probes.started(c, containerID: running.id) { started.insert(running.id) }
            }
        }
        await probes.prune(podUID: uid, running: Set(current.running.map(\.id)))
        let view = StatusView(current: current, waiting: waiting, ready: ready, started: started, nodeIP: nodeIP,
                              lostContainers: lostContainers, terminationMessages: Self.terminationMessages(current),
                              failure: failure.map { [$0.reason, $0.message] })
        var updated = pod
        view.apply(&updated)
        guard updated["status"] != pod["status"] else { return }
        let (namespace, name) = Informer.split(Informer.key(pod))
        do throws(StatusError) {
            try await client.pods.modify(namespace, name, status: true) { p in
                guard p["metadata"]["uid"].string == uid else { return }
                view.apply(&p)
            }
        } catch {
            if error.code != 404 { throw error }
        }
    }

    /// The termination message of each exited container: its file's content, or with
    /// FallbackToLogsOnError and an empty file after a failure, the end of its log.
    static func terminationMessages(_ current: RuntimePod) -> [String: String] {
        var messages: [String: String] = [:]
        for c in current.containers where c.state == .containerExited {
            var text = c.annotations[CRIKeys.terminationMessageFile].flatMap { try? String(contentsOfFile: $0, encoding: .utf8) } ?? ""
            if text.isEmpty, c.exitCode != 0, c.annotations[CRIKeys.terminationMessagePolicy] == "FallbackToLogsOnError" {
                text = ContainerLog.tail(c.logPath, lines: 80, bytes: 2048)
            }
            if !text.isEmpty { messages[c.id] = String(text.prefix(4096)) }
        }
        return messages
    }
}

/// Turns the runtime's view of a pod into its API status; a pure function of its inputs and the
/// status it is applied to, so it can be re-applied on a conflict retry.
struct StatusView: Sendable {
    let current: RuntimePod
    let waiting: [String: KubeletState.Waiting]
    let ready: Set<String>
    let started: Set<String>
    let nodeIP: String
    let lostContainers: Bool
    let terminationMessages: [String: String]
    /// The reason and message of a failure the kubelet decided.
    let failure: [String]?

    func apply(_ pod: inout JSON) {
        let spec = pod["spec"]
        let now = APITime.format(Date())
        let sandbox = current.readySandbox
        let initSpecs = spec["initContainers"].array ?? [], specs = spec["containers"].array ?? []
        let initStatuses = initSpecs.map { container($0, old: old(pod, "initContainerStatuses", $0), isInit: true) }
        let initDone = zip(initSpecs, initStatuses).allSatisfy { s, st in
            s["restartPolicy"].string == "Always" ? st["started"].bool == true
                : st["state"]["terminated"]["exitCode"].int == 0
        }
        var statuses = specs.map { container($0, old: old(pod, "containerStatuses", $0), isInit: false) }
        if !initDone {
            // Containers wait for the init containers, as PodInitializing.
            statuses = statuses.map { s in
                guard !s["state"]["waiting"].isNull, s["state"]["waiting"]["reason"] == "ContainerCreating" else { return s }
                var s = s
                s["state"] = ["waiting": ["reason": "PodInitializing"]]
                return s
            }
        }
        var status = pod["status"]
        let phase = failure == nil ? Self.phase(spec, initStatuses: initStatuses, initSpecs: initSpecs, statuses: statuses, initDone: initDone) : "Failed"
        status["phase"] = .string(phase)
        if let failure, failure.count == 2 {
            status["reason"] = .string(failure[0])
            status["message"] = .string(failure[1])
        }
        if !initSpecs.isEmpty { status["initContainerStatuses"] = .array(initStatuses) }
        status["containerStatuses"] = .array(statuses)
        if let ephemeral = spec["ephemeralContainers"].array, !ephemeral.isEmpty {
            status["ephemeralContainerStatuses"] = .array(ephemeral.map { container($0, old: old(pod, "ephemeralContainerStatuses", $0), isInit: false) })
        }
        status["hostIP"] = .string(nodeIP)
        status["hostIPs"] = [["ip": .string(nodeIP)]]
        let podIP = spec["hostNetwork"].bool == true ? nodeIP : current.podIP
        if let podIP, sandbox != nil {
            status["podIP"] = .string(podIP)
            status["podIPs"] = [["ip": .string(podIP)]]
        }
        if status["startTime"].isNull { status["startTime"] = .string(now) }
        if status["qosClass"].isNull { status["qosClass"] = .string(PodQOS.qosClass(spec)) }
        pod["status"] = status

        let done = phase == "Succeeded" || phase == "Failed"
        let doneReason = phase == "Failed" ? "PodFailed" : "PodCompleted"
        PodConditions.set(&pod, type: "PodReadyToStartContainers", status: sandbox != nil ? "True" : "False", now: now)
        let incomplete = zip(initSpecs, initStatuses).filter { s, st in
            s["restartPolicy"].string == "Always" ? st["started"].bool != true : st["state"]["terminated"]["exitCode"].int != 0
        }.map { $0.0["name"].string ?? "" }
        if initDone || done {
            PodConditions.set(&pod, type: "Initialized", status: "True", reason: done && !initSpecs.isEmpty ? doneReason : nil, now: now)
        } else {
            PodConditions.set(&pod, type: "Initialized", status: "False", reason: "ContainersNotInitialized",
                              message: "containers with incomplete status: [\(incomplete.joined(separator: " "))]", now: now)
        }
        let unready = statuses.filter { $0["ready"].bool != true }.compactMap { $0["name"].string }
        let gates = (spec["readinessGates"].array ?? []).compactMap { $0["conditionType"].string }
        let gatesOpen = gates.allSatisfy { Conditions.status(pod, $0) == "True" }
        if unready.isEmpty && !done {
            PodConditions.set(&pod, type: "ContainersReady", status: "True", now: now)
            if gatesOpen {
                PodConditions.set(&pod, type: "Ready", status: "True", now: now)
            } else {
                PodConditions.set(&pod, type: "Ready", status: "False", reason: "ReadinessGatesNotReady",
                                  message: "corresponding condition of pod readiness gate \"\(gates.first { Conditions.status(pod, $0) != "True" } ?? "")\" does not exist.", now: now)
            }
        } else {
            let reason = done ? doneReason : "ContainersNotReady"
            let message: String? = done ? nil : "containers with unready status: [\(unready.joined(separator: " "))]"
            PodConditions.set(&pod, type: "ContainersReady", status: "False", reason: reason, message: message, now: now)
            PodConditions.set(&pod, type: "Ready", status: "False", reason: reason, message: message, now: now)
        }
    }

    func old(_ pod: JSON, _ list: String, _ spec: JSON) -> JSON {
        (pod["status"][list].array ?? []).first { $0["name"] == spec["name"] } ?? .null
    }

    /// One container's status from its newest instances in the runtime.
    func container(_ spec: JSON, old: JSON, isInit: Bool) -> JSON {
        let name = spec["name"].string ?? ""
        let instances = current.instances(name)
        let latest = instances.first
        var status: JSON = ["name": .string(name), "image": .string(spec["image"].string ?? ""), "imageID": "",
                            "ready": false, "started": false, "restartCount": old["restartCount"].isNull ? 0 : old["restartCount"],
                            "lastState": old["lastState"].isNull ? .emptyObject : old["lastState"]]
        if let latest {
            status["restartCount"] = .int(Int64(latest.annotations[CRIKeys.restartCount] ?? "") ?? 0)
            status["containerID"] = .string("containerd://\(latest.id)")
            status["imageID"] = .string(latest.imageRef)
            if !latest.image.image.isEmpty && !latest.image.image.hasPrefix("sha256:") { status["image"] = .string(latest.image.image) }
            // The instance before the newest one, if the runtime still has it.
            if let previous = instances.dropFirst().first, previous.state == .containerExited {
                status["lastState"] = ["terminated": terminated(previous)]
            } else if instances.count == 1, latest.state != .containerExited, (Int64(latest.annotations[CRIKeys.restartCount] ?? "") ?? 0) > 0 {
                // Restarted in a new sandbox after the node stopped: the runtime kept no earlier
                // instance, so the one the status showed before ended unknown (once recorded, kept).
                status["lastState"] = old["containerID"].string == "containerd://\(latest.id)" ? old["lastState"] : Self.unknownEnd(old)
            }
        }
        switch latest?.state {
        case .containerRunning?:
            status["state"] = ["running": ["startedAt": .string(Self.time(latest!.startedAt))]]
            status["started"] = .bool(started.contains(latest!.id))
            status["ready"] = .bool(ready.contains(latest!.id))
        case .containerExited?:
            if let wait = waiting[name], wait.reason != "ContainerCreating" {
                status["state"] = ["waiting": ["reason": .string(wait.reason), "message": .string(wait.message)]]
                status["lastState"] = ["terminated": terminated(latest!)]
            } else {
                status["state"] = ["terminated": terminated(latest!)]
            }
        default:
            if lostContainers, !old["state"]["running"].isNull || !old["state"]["terminated"].isNull {
                status["state"] = old["state"]["terminated"].isNull ? Self.unknownEnd(old) : old["state"]
            } else if let wait = waiting[name] {
                status["state"] = ["waiting": ["reason": .string(wait.reason), "message": .string(wait.message)]]
            } else {
                status["state"] = ["waiting": ["reason": "ContainerCreating"]]
            }
        }
        return status
    }

    /// How a container that was running ends when the node went away under it: upstream reports
    /// exit 255, reason Unknown.
    static func unknownEnd(_ old: JSON) -> JSON {
        let startedAt = old["state"]["running"]["startedAt"].isNull ? old["lastState"]["terminated"]["startedAt"] : old["state"]["running"]["startedAt"]
        var t: JSON = ["exitCode": 255, "reason": "Unknown", "finishedAt": .string(APITime.format(Date()))]
        if !startedAt.isNull { t["startedAt"] = startedAt }
        if let id = old["containerID"].string { t["containerID"] = .string(id) }
        return ["terminated": t]
    }

    func terminated(_ c: Runtime_V1_ContainerStatus) -> JSON {
        var t: JSON = ["exitCode": .int(Int64(c.exitCode)), "reason": .string(c.reason.isEmpty ? (c.exitCode == 0 ? "Completed" : "Error") : c.reason),
                       "startedAt": .string(Self.time(c.startedAt == 0 ? c.createdAt : c.startedAt)),
                       "finishedAt": .string(Self.time(c.finishedAt)), "containerID": .string("containerd://\(c.id)")]
        if let message = terminationMessages[c.id] ?? (c.message.isEmpty ? nil : c.message) { t["message"] = .string(message) }
        return t
    }

    static func time(_ nanoseconds: Int64) -> String { APITime.format(Date(timeIntervalSince1970: Double(nanoseconds) / 1e9)) }

    /// Upstream's getPhase: Pending until the init containers are done and every container has
    /// run; Running while any runs (or a crashed one will restart); Succeeded or Failed once all
    /// have stopped for good.
    static func phase(_ spec: JSON, initStatuses: [JSON], initSpecs: [JSON], statuses: [JSON], initDone: Bool) -> String {
        let policy = spec["restartPolicy"].string ?? "Always"
        if !initDone {
            let failed = zip(initSpecs, initStatuses).contains { s, st in
                s["restartPolicy"].string != "Always" && (st["state"]["terminated"]["exitCode"].int ?? 0) != 0
            }
            return failed && policy == "Never" ? "Failed" : "Pending"
        }
        var running = 0, waiting = 0, stopped = 0, succeeded = 0
        for s in statuses {
            if !s["state"]["running"].isNull {
                running += 1
            } else if let code = s["state"]["terminated"]["exitCode"].int {
                stopped += 1
                if code == 0 { succeeded += 1 }
            } else if !s["lastState"]["terminated"].isNull {
                stopped += 1
            } else {
                waiting += 1
            }
        }
        if waiting > 0 { return "Pending" }
        if running > 0 { return "Running" }
        guard stopped > 0 else { return "Pending" }
        switch policy {
        case "Always": return "Running"
        case "OnFailure": return stopped == succeeded ? "Succeeded" : "Running"
        default:
            let failed = statuses.contains { ($0["state"]["terminated"]["exitCode"].int ?? 0) != 0 }
            return failed ? "Failed" : "Succeeded"
        }
    }
}
