import APIMachinery
import Client
import Foundation
import Resources

/// A node's own pods as the API shows them, the way the kubelet mirrors its static pods: one pod
/// per component in kube-system, named COMPONENT-NODE, annotated as a mirror and owned by the
/// Node; its status follows the component's health (Ready false while it is not serving), its
/// restart count grows each time the process running it starts again, and a deleted one is made
/// again. No node runs containers for these pods: the components run inside localkube.
public struct MirrorPods: Controller {
    /// One component, as its static pod manifest would declare it.
    public struct StaticPod: Sendable {
        public var component: String
        public var image: String
        public var command: [String]
        public var labels: [String: String]
        public var requests: [String: String]
        public var priorityClassName: String
        /// nil while the component serves, else why it does not.
        public var health: @Sendable () async -> String?

        public init(component: String, image: String, command: [String], labels: [String: String], requests: [String: String] = [:],
                    priorityClassName: String = "system-node-critical", health: @escaping @Sendable () async -> String? = { nil }) {
            self.component = component
            self.image = image
            self.command = command
            self.labels = labels
            self.requests = requests
            self.priorityClassName = priorityClassName
            self.health = health
        }
    }

    public static let namespace = "kube-system"
    public let name = "mirror-pods"
    public let queue = WorkQueue()
    public var workers: Int { 1 }
    let client: Client
    let pods: Informer
    let nodes: Informer
    let nodeName: String
    let hostIP: String
    let staticPods: [String: StaticPod]
    /// When this process started its components, and the container ID they have in it: a pod
    /// reporting another container was left by an earlier run, so the component has restarted.
    let started = Date()
    let instance = UUID().uuidString
    /// How often health is looked at again (the kubelet's status sync is 10 s).
    let healthInterval: Duration

    public init(client: Client, informers: InformerFactory, nodeName: String, hostIP: String, staticPods: [StaticPod],
                healthInterval: Duration = .seconds(5)) {
        self.client = client
        self.pods = informers.pods
        self.nodes = informers.nodes
        self.nodeName = nodeName
        self.hostIP = hostIP
        self.healthInterval = healthInterval
        self.staticPods = Dictionary(staticPods.map { ("\($0.component)-\(nodeName)", $0) }) { a, _ in a }
    }

    public func register() async {
        let queue = queue, names = Set(staticPods.keys)
        await pods.addHandler { event in
            let pod = event.object
            guard pod["metadata"]["namespace"].string == Self.namespace, let name = pod["metadata"]["name"].string, names.contains(name) else { return }
            queue.add(name)
        }
    }

    /// The controller loop, and a look at every component's health now and then.
    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await run(logger: .init(label: name)) }
            group.addTask {
                while !Task.isCancelled {
                    for name in staticPods.keys { queue.add(name) }
                    try? await Task.sleep(for: healthInterval)
                }
            }
        }
    }

    public func reconcile(_ name: String) async throws {
        guard let staticPod = staticPods[name] else { return }
        // From the informers' caches: this runs every few seconds for each pod. One a step behind
        // (a pod just made) only costs a refused create and another pass.
        guard let node = await nodes.get(nodeName) else {
            // The node registers first; until then there is nothing to own the pod.
            queue.add(name, after: .milliseconds(200))
            return
        }
        var pod = await pods.get("\(Self.namespace)/\(name)")
        let manifest = self.manifest(staticPod, name: name, node: node)
        if let existing = pod, !existing["metadata"]["deletionTimestamp"].isNull
            || existing["metadata"]["annotations"][MirrorPod.annotation] != manifest["metadata"]["annotations"][MirrorPod.annotation] {
            // Deleted (or changed) by someone: the kubelet removes the old mirror at once and makes a new one.
            var options = DeleteOptions()
            options.gracePeriodSeconds = 0
            options.preconditionUID = existing["metadata"]["uid"].string
            do throws(StatusError) { try await client.pods.delete(Self.namespace, name, options: options) } catch {
                if error.code != 404 && error.code != 409 { throw error }
            }
            pod = nil
        }
        if pod == nil {
            do throws(StatusError) { pod = try await client.pods.create(Self.namespace, manifest) } catch {
                if error.code == 409 { queue.add(name, after: .milliseconds(100)); return }
                throw error
            }
        }
        guard let pod else { return }
        let unhealthy = await staticPod.health()
        let desired = status(of: pod, staticPod, unhealthy: unhealthy)
        if Self.withoutTimes(pod["status"]) == Self.withoutTimes(desired) { return }
        try await client.pods.modify(Self.namespace, name, status: true) { p in
            // Conditions keep their transition times unless their status changes.
            var merged = desired
            merged["conditions"] = .array((desired["conditions"].array ?? []).map { c in
                let old = (p["status"]["conditions"].array ?? []).first { $0["type"] == c["type"] }
                guard let old, old["status"] == c["status"] else { return c }
                var kept = c
                kept["lastTransitionTime"] = old["lastTransitionTime"]
                return kept
            })
            p["status"] = merged
        }
    }

    /// The pod as the kubelet would mirror the component's manifest; the hash of the manifest
    /// names this version of it, as upstream's config hash does.
    func manifest(_ s: StaticPod, name: String, node: JSON) -> JSON {
        var container: JSON = ["name": .string(s.component), "image": .string(s.image), "imagePullPolicy": "IfNotPresent",
                               "command": .array(s.command.map { .string($0) })]
        if !s.requests.isEmpty { container["resources"] = ["requests": JSON(s.requests)] }
        let spec: JSON = [
            "containers": [container], "nodeName": .string(nodeName), "hostNetwork": true, "priorityClassName": .string(s.priorityClassName),
            "restartPolicy": "Always", "enableServiceLinks": true, "tolerations": [["operator": "Exists", "effect": "NoExecute"]],
            "securityContext": ["seccompProfile": ["type": "RuntimeDefault"]],
        ]
        let hash = Self.hash(spec.jsonString + JSON(s.labels).jsonString)
        return [
            "apiVersion": "v1", "kind": "Pod",
            "metadata": [
                "name": .string(name), "namespace": .string(Self.namespace), "labels": JSON(s.labels),
                "annotations": JSON(["kubernetes.io/config.hash": hash, MirrorPod.annotation: hash,
                                     "kubernetes.io/config.seen": APITime.format(started), "kubernetes.io/config.source": "file"]),
                "ownerReferences": [["apiVersion": "v1", "kind": "Node", "name": .string(nodeName),
                                     "uid": node["metadata"]["uid"], "controller": true]],
            ],
            "spec": spec,
        ]
    }

    /// What the kubelet reports for the component's pod: Running, its one container started
    /// when this process started, Ready while it is healthy.
    func status(of pod: JSON, _ s: StaticPod, unhealthy: String?, now: Date = Date()) -> JSON {
        let old = pod["status"]["containerStatuses"][0]
        let startedAt = APITime.format(started)
        var restarts = old["restartCount"].int ?? 0
        var lastState = old["lastState"].isNull ? JSON.emptyObject : old["lastState"]
        let id = Self.hash("\(s.component)/\(instance)")
        // A container this process did not start ran in an earlier one.
        if let previous = old["state"]["running"]["startedAt"].string, old["containerID"].string != "cubby://\(id)" {
            restarts += 1
            lastState = ["terminated": ["exitCode": 0, "reason": "Completed", "startedAt": .string(previous), "finishedAt": .string(startedAt)]]
        }
        let ready = unhealthy == nil
        let container: JSON = [
            "name": .string(s.component), "image": .string(s.image), "imageID": .string("\(s.image)@sha256:\(stableHex(s.image, 64))"),
            "containerID": .string("cubby://\(id)"), "ready": .bool(ready), "started": true, "restartCount": .int(restarts),
            "state": ["running": ["startedAt": .string(startedAt)]], "lastState": lastState,
        ]
        var status: JSON = [
            "phase": "Running", "hostIP": .string(hostIP), "hostIPs": [["ip": .string(hostIP)]], "podIP": .string(hostIP),
            "podIPs": [["ip": .string(hostIP)]], "startTime": .string(startedAt), "containerStatuses": [container],
            "qosClass": pod["status"]["qosClass"],
        ]
        let time = APITime.format(now)
        var shell: JSON = ["status": status]
        PodConditions.set(&shell, type: "PodReadyToStartContainers", status: "True", now: time)
        PodConditions.set(&shell, type: "Initialized", status: "True", now: time)
        let message: String? = unhealthy.map { "containers with unready status: [\(s.component)]: \($0)" }
        PodConditions.set(&shell, type: "Ready", status: ready ? "True" : "False", reason: ready ? nil : "ContainersNotReady", message: message, now: time)
        PodConditions.set(&shell, type: "ContainersReady", status: ready ? "True" : "False", reason: ready ? nil : "ContainersNotReady",
                          message: message, now: time)
        PodConditions.set(&shell, type: "PodScheduled", status: "True", now: time)
        status["conditions"] = shell["status"]["conditions"]
        if status["qosClass"].isNull { status["qosClass"] = s.requests.isEmpty ? "BestEffort" : "Burstable" }
        return status
    }

    /// A status with its condition times left out, to tell whether anything changed.
    static func withoutTimes(_ status: JSON) -> JSON {
        var s = status
        s["conditions"] = .array((status["conditions"].array ?? []).map { c in
            var c = c
            c["lastTransitionTime"] = nil
            c["lastProbeTime"] = nil
            return c
        })
        return s
    }

    static func hash(_ text: String) -> String { stableHex(text, 32) }
}
