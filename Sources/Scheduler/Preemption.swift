import APIMachinery
import Client
import Foundation

/// Upstream's default preemption (the DefaultPreemption post-filter): when a pod fits no node,
/// the scheduler looks for a node where evicting pods of lower priority would make room, with
/// the fewest and least important victims; it marks each victim DisruptionTarget, records
/// Preempted on it, deletes it with its grace period and nominates the node for the pod, which
/// is scheduled once the victims are gone.
extension Scheduler {
    static func priority(_ pod: JSON) -> Int64 { pod["spec"]["priority"].int ?? 0 }

    /// The node chosen and its victims, or nil when no preemption helps.
    func preemptionCandidate(_ pod: JSON, _ requests: PodRequests, _ infos: [NodeInfo]) async -> (node: String, victims: [JSON])? {
        guard pod["spec"]["preemptionPolicy"].string != "Never" else { return nil }
        let priority = Self.priority(pod)
        // Victims of an earlier preemption for this pod still leaving its nominated node: wait for
        // them rather than evict more (upstream's PodEligibleToPreemptOthers).
        if let nominated = pod["status"]["nominatedNodeName"].string,
           let info = infos.first(where: { $0.node["metadata"]["name"].string == nominated }) {
            for key in info.pods.keys {
                if let other = await pods.get(key), !other["metadata"]["deletionTimestamp"].isNull, Self.priority(other) < priority { return nil }
            }
        }
        var best: (node: String, victims: [JSON], highest: Int64)?
        for info in infos {
            // Only nodes that failed for resources can be helped by evicting pods.
            let reasons = NodeFilters.reasons(pod, requests, info)
            guard !reasons.isEmpty, reasons.allSatisfy(NodeFilters.resourceReasons.contains) else { continue }
            var lower: [(key: String, pod: JSON)] = []
            for key in info.pods.keys {
                guard let other = await pods.get(key), other["metadata"]["deletionTimestamp"].isNull, Self.priority(other) < priority else { continue }
                lower.append((key, other))
            }
            var simulated = info
            for v in lower { simulated.remove(v.key, owner: SchedulerCache.owner(v.pod)) }
            guard NodeFilters.reasons(pod, requests, simulated).isEmpty else { continue }
            // Give back as many as still leave room, most important first: the rest are the victims.
            var victims: [JSON] = []
            for v in lower.sorted(by: { Self.priority($0.pod) > Self.priority($1.pod) }) {
                var trial = simulated
                trial.add(v.key, PodRequests(v.pod), owner: SchedulerCache.owner(v.pod))
                if NodeFilters.reasons(pod, requests, trial).isEmpty { simulated = trial } else { victims.append(v.pod) }
            }
            let highest = victims.map(Self.priority).max() ?? Int64.min
            let name = info.node["metadata"]["name"].string ?? ""
            if best == nil || highest < best!.highest || (highest == best!.highest && victims.count < best!.victims.count) {
                best = (name, victims, highest)
            }
        }
        return best.map { ($0.node, $0.victims) }
    }

    func preempt(_ pod: JSON, victims: [JSON], node: String) async {
        let (namespace, name) = Informer.split(Informer.key(pod))
        let preemptor = pod["metadata"]["uid"].string ?? ""
        for victim in victims {
            let (vns, vname) = Informer.split(Informer.key(victim))
            _ = try? await client.pods.modify(vns, vname, status: true) { p in
                PodConditions.set(&p, type: "DisruptionTarget", status: "True", reason: "PreemptionByScheduler",
                                  message: "default-scheduler: preempting to accommodate a higher priority pod")
            }
            events.normal(victim, "Preempted", "Preempted by pod \(preemptor) on node \(node)")
            var options = DeleteOptions()
            options.preconditionUID = victim["metadata"]["uid"].string
            _ = try? await client.pods.delete(vns, vname, options: options)
        }
        _ = try? await client.pods.modify(namespace, name, status: true) { p in p["status"]["nominatedNodeName"] = .string(node) }
    }
}
