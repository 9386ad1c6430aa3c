import APIMachinery
import Client
import Foundation
import Resources
import Synchronization

/// Upstream's horizontal-pod-autoscaler controller, for resource metrics (CPU and memory, as
/// utilisation of requests or as averages): every sync period each autoscaler reads its target's
/// scale subresource and its pods' usage from the resource metrics, computes the replicas the
/// metrics ask for (within upstream's 10% tolerance), stabilises them over the behavior's windows,
/// limits the change by its policies and by min/max, scales the target, and writes status,
/// conditions and events as upstream does.
public struct HorizontalPodAutoscalerController: Controller {
    public let name = "horizontal-pod-autoscaler"
    public let queue = WorkQueue()
    static let tolerance = 0.1
    let client: Client
    let autoscalers: Informer
    let pods: Informer
    let syncPeriod: Duration
    let events: EventRecorder
    /// Per autoscaler: recent recommendations and scale changes (upstream keeps them in memory too).
    let history = Histories()

    final class Histories: Sendable {
        let all = Mutex<[String: History]>([:])
        func withLock<T>(_ body: (inout [String: History]) -> T) -> T { all.withLock { body(&$0) } }
    }

    struct History {
        var recommendations: [(time: Date, replicas: Int64)] = []
        var scaleUps: [(time: Date, change: Int64)] = []
        var scaleDowns: [(time: Date, change: Int64)] = []
    }

    public init(client: Client, informers: InformerFactory, syncPeriod: Duration = .seconds(15)) {
        self.client = client
        self.syncPeriod = syncPeriod
        autoscalers = informers.informer("autoscaling", "v2", "horizontalpodautoscalers")
        pods = informers.informer("", "v1", "pods")
        events = EventRecorder(client: client, component: "horizontal-pod-autoscaler")
    }

    public func register() async {
        let queue = queue
        await autoscalers.addHandler { event in
            if case .deleted = event { return }
            queue.add(Informer.key(event.object))
        }
        await autoscalers.waitForSync()
        await pods.waitForSync()
    }

    public func reconcile(_ key: String) async throws {
        guard let hpa = await autoscalers.get(key) else {
            history.withLock { _ = $0.removeValue(forKey: key) }
            return
        }
        defer { queue.add(key, after: syncPeriod) }
        try await evaluate(hpa, key: key, now: Date())
    }

    // MARK: one evaluation

    struct Evaluation {
        var conditions: [JSON] = []
        var currentMetrics: [JSON] = []
        var reason = ""
    }

    func evaluate(_ hpa: JSON, key: String, now: Date) async throws {
        let spec = hpa["spec"], namespace = hpa["metadata"]["namespace"].string ?? ""
        let ref = spec["scaleTargetRef"]
        let minReplicas = spec["minReplicas"].int ?? 1, maxReplicas = spec["maxReplicas"].int ?? 1
        var evaluation = Evaluation()
        func condition(_ type: String, _ status: String, _ reason: String, _ message: String) {
            evaluation.conditions.append(["type": .string(type), "status": .string(status), "reason": .string(reason), "message": .string(message),
                                          "lastTransitionTime": .string(APITime.format(now))])
        }
        // The target, through its scale subresource.
        let gv = GroupVersion(apiVersion: ref["apiVersion"].string ?? "") ?? GroupVersion(group: "", version: "v1")
        let targetName = ref["name"].string ?? "", kind = ref["kind"].string ?? ""
        guard let def = client.definition(group: gv.group, version: gv.version, kind: kind), def.scale != nil else {
            let message = "the HPA controller was unable to get the target's current scale: no matches for kind \"\(kind)\" in group \"\(gv.group)\""
            condition("AbleToScale", "False", "FailedGetScale", message)
            events.warning(hpa, "FailedGetScale", "no matches for kind \"\(kind)\" in group \"\(gv.group)\"")
            try await writeStatus(hpa, evaluation, current: hpa["status"]["currentReplicas"].int ?? 0, desired: hpa["status"]["desiredReplicas"].int ?? 0, scaledAt: nil)
            return
        }
        let target = client.resource(def.group, def.version, def.plural)
        let scale: JSON
        do { scale = try await target.scale(namespace, targetName) } catch {
            condition("AbleToScale", "False", "FailedGetScale", "the HPA controller was unable to get the target's current scale: \(error.message)")
            events.warning(hpa, "FailedGetScale", error.message)
            try await writeStatus(hpa, evaluation, current: hpa["status"]["currentReplicas"].int ?? 0, desired: hpa["status"]["desiredReplicas"].int ?? 0, scaledAt: nil)
            return
        }
        let current = scale["spec"]["replicas"].int ?? 0
        var desired = current
        var limited: (String, String)? = nil
        if current == 0 && minReplicas != 0 {
            condition("AbleToScale", "True", "SucceededGetScale", "the HPA controller was able to get the target's current scale")
            condition("ScalingActive", "False", "ScalingDisabled", "scaling is disabled since the replica count of the target is zero")
            try await writeStatus(hpa, evaluation, current: current, desired: 0, scaledAt: nil)
            return
        } else if current > maxReplicas {
            desired = maxReplicas
            evaluation.reason = "Current number of replicas above Spec.MaxReplicas"
        } else if current < minReplicas {
            desired = minReplicas
            evaluation.reason = "Current number of replicas below Spec.MinReplicas"
        } else {
            let selector = (try? LabelSelector.parse(scale["status"]["selector"].string ?? "")) ?? LabelSelector()
            let targetPods = await pods.list(namespace: namespace) { selector.matches(labels: $0["metadata"]["labels"]) }
            let usage = await podUsage(namespace)
            var proposals: [(replicas: Int64, metric: String)] = []
            var failures: [String] = []
            for metric in spec["metrics"].array ?? [] {
                switch Self.replicas(for: metric, pods: targetPods, usage: usage, current: current) {
                case .success(let result):
                    proposals.append((result.replicas, result.describe))
                    evaluation.currentMetrics.append(result.status)
                case .failure(let error):
                    failures.append(error.message)
                }
            }
            guard let best = proposals.max(by: { $0.replicas < $1.replicas }) else {
                let message = failures.first ?? "no metrics to compute a replica count from"
                condition("AbleToScale", "True", "SucceededGetScale", "the HPA controller was able to get the target's current scale")
                condition("ScalingActive", "False", "FailedGetResourceMetric", "the HPA was unable to compute the replica count: \(message)")
                events.warning(hpa, "FailedGetResourceMetric", message)
                try await writeStatus(hpa, evaluation, current: current, desired: hpa["status"]["desiredReplicas"].int ?? current, scaledAt: nil)
                return
            }
            condition("ScalingActive", "True", "ValidMetricFound",
                      "the HPA was able to successfully calculate a replica count from \(best.metric)")
            desired = best.replicas
            evaluation.reason = best.replicas > current ? "\(best.metric) above target" : "All metrics below target"
            var stabilized = false
            (desired, stabilized, limited) = normalize(desired, current: current, spec: spec, key: key, now: now)
            if stabilized && desired != best.replicas {
                condition("AbleToScale", "True", "ScaleDownStabilized",
                          "recent recommendations were higher than current one, applying the highest recent recommendation")
            }
        }
        if desired > maxReplicas { desired = maxReplicas; limited = ("TooManyReplicas", "the desired replica count is more than the maximum replica count") }
        if desired < minReplicas { desired = minReplicas; limited = ("TooFewReplicas", "the desired replica count is less than the minimum replica count") }
        if let (reason, message) = limited { condition("ScalingLimited", "True", reason, message) }
        else { condition("ScalingLimited", "False", "DesiredWithinRange", "the desired count is within the acceptable range") }

        var scaledAt: Date? = nil
        if desired != current {
            do {
                try await target.scale(namespace, targetName, to: desired)
            } catch {
                condition("AbleToScale", "False", "FailedUpdateScale", "the HPA controller was unable to update the target scale: \(error.message)")
                events.warning(hpa, "FailedRescale", "New size: \(desired); reason: \(evaluation.reason); error: \(error.message)")
                try await writeStatus(hpa, evaluation, current: current, desired: desired, scaledAt: nil)
                return
            }
            events.normal(hpa, "SuccessfulRescale", "New size: \(desired); reason: \(evaluation.reason)")
            history.withLock {
                if desired > current { $0[key, default: History()].scaleUps.append((now, desired - current)) }
                else { $0[key, default: History()].scaleDowns.append((now, current - desired)) }
            }
            if !evaluation.conditions.contains(where: { $0["type"] == "AbleToScale" }) {
                condition("AbleToScale", "True", "SucceededRescale", "the HPA controller was able to update the target scale to \(desired)")
            }
            scaledAt = now
        } else if !evaluation.conditions.contains(where: { $0["type"] == "AbleToScale" }) {
            condition("AbleToScale", "True", "ReadyForNewScale", "recommended size matches current size")
        }
        try await writeStatus(hpa, evaluation, current: current, desired: desired, scaledAt: scaledAt)
    }

    /// Each pod's containers' usage in `namespace`, by pod name.
    func podUsage(_ namespace: String) async -> [String: [(name: String, usage: ResourceUsage)]] {
        var byPod: [String: [(name: String, usage: ResourceUsage)]] = [:]
        for node in await client.resourceUsage() {
            for pod in node.pods where pod.namespace == namespace { byPod[pod.name] = pod.containers }
        }
        return byPod
    }

    // MARK: the replica calculator

    struct MetricResult {
        var replicas: Int64
        var describe: String
        var status: JSON
    }

    /// The replicas one resource metric asks for (upstream's replica calculator): pods that
    /// run and report usage count; those without a report count as using nothing when scaling
    /// up and all of their request when scaling down; within the tolerance nothing changes.
    static func replicas(for metric: JSON, pods: [JSON], usage: [String: [(name: String, usage: ResourceUsage)]],
                         current: Int64) -> Result<MetricResult, StatusError> {
        guard metric["type"].string == "Resource", let resource = metric["resource"]["name"].string, ["cpu", "memory"].contains(resource) else {
            return .failure(.badRequest("only resource metrics of cpu and memory are supported, not \(metric["type"].string ?? "")"))
        }
        let target = metric["resource"]["target"]
        // In milli-units, as upstream's metrics client reads them (MilliValue, rounded up).
        func measured(_ u: ResourceUsage) -> Double {
            resource == "cpu" ? (Double(u.cpuNanoCores) / 1e6).rounded(.up) : Double(u.memoryBytes) * 1000
        }
        let running = pods.filter { $0["status"]["phase"].string == "Running" && $0["metadata"]["deletionTimestamp"].isNull }
        var total = 0.0, requested = 0.0, reporting = 0, missing: [Double] = []
        for pod in running {
            let name = pod["metadata"]["name"].string ?? ""
            var request = 0.0
            for container in pod["spec"]["containers"].array ?? [] {
                let r = container["resources"]["requests"][resource]
                if r.isNull, target["type"].string == "Utilization" {
                    return .failure(.badRequest("failed to get \(resource) utilization: missing request for \(resource) in container \(container["name"].string ?? "") of Pod \(name)"))
                }
                request += Double(Quantity.milli(r))
            }
            if let containers = usage[name] {
                total += containers.reduce(0) { $0 + measured($1.usage) }
                requested += request
                reporting += 1
            } else {
                missing.append(request)
            }
        }
        guard reporting > 0 else {
            return .failure(.badRequest("unable to get metrics for resource \(resource): no metrics returned from resource metrics API"))
        }
        let what = target["type"].string == "Utilization" ? "\(resource) resource utilization (percentage of request)" : "\(resource) resource"
        let average = total / Double(reporting)
        var status: JSON = ["type": "Resource", "resource": ["name": .string(resource), "current": ["averageValue": .string(format(average, resource))]]]
        // ratio: of usage to target; rebuilt with the pods that did not report when there are any.
        let ratioOf: (Double, Double, Int) -> Double
        if target["type"].string == "Utilization" {
            let percent = Double(target["averageUtilization"].int ?? 80)
            guard requested > 0 else { return .failure(.badRequest("failed to get \(resource) utilization: no requests")) }
            status["resource"]["current"]["averageUtilization"] = .int(Int64(total * 100) / Int64(requested))
            ratioOf = { used, req, _ in used / req * 100 / percent }
        } else {
            let value = Double(Quantity.milli(target["averageValue"]))
            guard value > 0 else { return .failure(.badRequest("invalid target value for \(resource)")) }
            ratioOf = { used, _, count in used / Double(count) / value }
        }
        let ratio = ratioOf(total, requested, reporting)
        var replicas = current
        if missing.isEmpty {
            if abs(ratio - 1) > tolerance { replicas = Int64((ratio * Double(reporting)).rounded(.up)) }
        } else {
            let scalingUp = ratio > 1
            let filledUsage = total + (scalingUp ? 0 : missing.reduce(0, +))
            let newRatio = ratioOf(filledUsage, requested + missing.reduce(0, +), reporting + missing.count)
            if abs(newRatio - 1) > tolerance && (newRatio > 1) == scalingUp && abs(ratio - 1) > tolerance {
                replicas = Int64((newRatio * Double(reporting + missing.count)).rounded(.up))
            }
        }
        return .success(MetricResult(replicas: replicas, describe: what, status: status))
    }

    /// An average (in milli-units) as upstream's status shows it: CPU in millicores, memory in bytes.
    static func format(_ milli: Double, _ resource: String) -> String {
        resource == "cpu" ? "\(Int64(milli.rounded(.up)))m" : "\(Int64((milli / 1000).rounded(.up)))"
    }

    // MARK: behavior

    /// The recommendation stabilised over the behavior's windows and limited by its policies
    /// (upstream's normalizeDesiredReplicasWithBehaviors); whether the window held it back, and
    /// the ScalingLimited reason when a policy did.
    func normalize(_ desired: Int64, current: Int64, spec: JSON, key: String, now: Date) -> (Int64, Bool, (String, String)?) {
        let behavior = spec["behavior"]
        let up = behavior["scaleUp"].isNull ? AutoscalingV2.defaultScaleUp : behavior["scaleUp"]
        let down = behavior["scaleDown"].isNull ? AutoscalingV2.defaultScaleDown : behavior["scaleDown"]
        return history.withLock { all -> (Int64, Bool, (String, String)?) in
            var h = all[key] ?? History()
            let upWindow = Double(up["stabilizationWindowSeconds"].int ?? 0), downWindow = Double(down["stabilizationWindowSeconds"].int ?? 300)
            var upRecommendation = desired, downRecommendation = desired
            for r in h.recommendations {
                if now.timeIntervalSince(r.time) < upWindow { upRecommendation = min(upRecommendation, r.replicas) }
                if now.timeIntervalSince(r.time) < downWindow { downRecommendation = max(downRecommendation, r.replicas) }
            }
            var stabilized = current
            if stabilized < upRecommendation { stabilized = upRecommendation }
            if stabilized > downRecommendation { stabilized = downRecommendation }
            let longest = max(upWindow, downWindow)
            h.recommendations = h.recommendations.filter { now.timeIntervalSince($0.time) < longest } + [(now, desired)]
            // Policies: how far the replicas may move from where they were a period ago.
            var limited: (String, String)? = nil
            var result = stabilized
            if stabilized > current {
                let limit = Self.limit(up, current: current, changes: h.scaleUps, now: now, up: true)
                if stabilized > limit { result = limit; limited = ("ScaleUpLimit", "the desired replica count is increasing faster than the maximum scale rate") }
            } else if stabilized < current {
                let limit = Self.limit(down, current: current, changes: h.scaleDowns, now: now, up: false)
                if stabilized < limit { result = limit; limited = ("ScaleDownLimit", "the desired replica count is decreasing faster than the maximum scale rate") }
            }
            let oldest = max(Self.longestPeriod(up), Self.longestPeriod(down))
            h.scaleUps = h.scaleUps.filter { now.timeIntervalSince($0.time) < oldest }
            h.scaleDowns = h.scaleDowns.filter { now.timeIntervalSince($0.time) < oldest }
            all[key] = h
            return (result, stabilized != desired, limited)
        }
    }

    static func longestPeriod(_ rules: JSON) -> Double {
        Double((rules["policies"].array ?? []).compactMap { $0["periodSeconds"].int }.max() ?? 15)
    }

    /// The furthest the rules let the replicas go this time: per policy, from the replicas at
    /// the start of its period; the most permissive policy (selectPolicy Max), the least (Min),
    /// or no change at all (Disabled).
    static func limit(_ rules: JSON, current: Int64, changes: [(time: Date, change: Int64)], now: Date, up: Bool) -> Int64 {
        let select = rules["selectPolicy"].string ?? "Max"
        if select == "Disabled" { return current }
        var limits: [Int64] = []
        for policy in rules["policies"].array ?? [] {
            let period = Double(policy["periodSeconds"].int ?? 15), value = policy["value"].int ?? 0
            let changed = changes.filter { now.timeIntervalSince($0.time) < period }.reduce(0) { $0 + $1.change }
            let start = up ? current - changed : current + changed
            switch (policy["type"].string, up) {
            case ("Pods", true): limits.append(start + value)
            case ("Pods", false): limits.append(start - value)
            case ("Percent", true): limits.append(Int64((Double(start) * (1 + Double(value) / 100)).rounded(.up)))
            default: limits.append(Int64((Double(start) * (1 - Double(value) / 100)).rounded(.down)))
            }
        }
        guard !limits.isEmpty else { return up ? .max : 0 }
        // Max lets the largest change through: the highest limit going up, the lowest going down.
        let loosest = up ? limits.max()! : limits.min()!, tightest = up ? limits.min()! : limits.max()!
        return select == "Min" ? tightest : loosest
    }

    // MARK: status

    func writeStatus(_ hpa: JSON, _ evaluation: Evaluation, current: Int64, desired: Int64, scaledAt: Date?) async throws {
        let name = hpa["metadata"]["name"].string ?? "", namespace = hpa["metadata"]["namespace"].string
        let generation = hpa["metadata"]["generation"]
        let resource = client.resource("autoscaling", "v2", "horizontalpodautoscalers")
        do throws(StatusError) {
            try await resource.modify(namespace, name, status: true) { o in
                var status = o["status"]
                status["currentReplicas"] = current == 0 ? nil : .int(current)
                status["desiredReplicas"] = .int(desired)
                status["currentMetrics"] = evaluation.currentMetrics.isEmpty ? nil : .array(evaluation.currentMetrics)
                if let scaledAt { status["lastScaleTime"] = .string(APITime.format(scaledAt)) }
                if !generation.isNull { status["observedGeneration"] = generation }
                var conditions = status["conditions"].array ?? []
                for c in evaluation.conditions { Conditions.set(&conditions, c) }
                // upstream's order: AbleToScale, ScalingActive, ScalingLimited.
                let order = ["AbleToScale", "ScalingActive", "ScalingLimited"]
                status["conditions"] = .array(conditions.sorted { (order.firstIndex(of: $0["type"].string ?? "") ?? 9) < (order.firstIndex(of: $1["type"].string ?? "") ?? 9) })
                o["status"] = status
            }
        } catch {
            if error.code != 404 { throw error }
        }
    }
}
