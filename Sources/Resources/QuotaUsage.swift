import APIMachinery
import Foundation

/// What an object counts against a ResourceQuota, by the quota's resource names, as upstream's
/// quota evaluators count it: a pod its `pods` and its containers' requests and limits (the
/// larger of the init containers' and the sum of the others', plus overhead); a service its
/// node ports and load balancers; a claim its storage; every object `count/RESOURCE.GROUP`.
/// Shared by the ResourceQuota admission (a new object's delta) and the resource quota
/// controller (a namespace's total).
public enum QuotaUsage {
    /// The usage of one object of resource `def`.
    public static func of(_ def: ResourceDefinition, _ object: JSON) -> [String: Double] {
        var usage: [String: Double] = ["count/" + (def.group.isEmpty ? def.plural : "\(def.plural).\(def.group)"): 1]
        guard def.group.isEmpty else { return usage }
        switch def.plural {
        case "pods":
            let phase = object["status"]["phase"].string
            if phase == "Succeeded" || phase == "Failed" { return [:] }
            usage["pods"] = 1
            for (kind, sums) in [("requests", podTotals(object["spec"], "requests")), ("limits", podTotals(object["spec"], "limits"))] {
                for (resource, value) in sums {
                    usage["\(kind).\(resource)"] = value
                    // cpu and memory alone mean their requests, as upstream's quota names them.
                    if kind == "requests", resource == "cpu" || resource == "memory" { usage[resource] = value }
                }
            }
        case "services":
            usage["services"] = 1
            let type = object["spec"]["type"].string ?? "ClusterIP"
            if type == "NodePort" || type == "LoadBalancer" {
                usage["services.nodeports"] = Double((object["spec"]["ports"].array ?? []).filter { !$0["nodePort"].isNull }.count)
            }
            if type == "LoadBalancer" { usage["services.loadbalancers"] = 1 }
        case "persistentvolumeclaims":
            usage["persistentvolumeclaims"] = 1
            let storage = Quantity.value(object["spec"]["resources"]["requests"]["storage"])
            usage["requests.storage"] = storage
            if let sc = object["spec"]["storageClassName"].string, !sc.isEmpty {
                usage["\(sc).storageclass.storage.k8s.io/requests.storage"] = storage
                usage["\(sc).storageclass.storage.k8s.io/persistentvolumeclaims"] = 1
            }
        case "configmaps", "secrets", "replicationcontrollers", "resourcequotas":
            usage[def.plural] = 1
        default:
            break
        }
        return usage
    }

    /// A pod's requests or limits per resource: the sum over its containers, or the largest init
    /// container's if that is more, plus the pod's overhead.
    public static func podTotals(_ spec: JSON, _ kind: String) -> [String: Double] {
        var totals: [String: Double] = [:]
        for c in spec["containers"].array ?? [] {
            for (r, q) in c["resources"][kind].object ?? [:] { totals[r, default: 0] += Quantity.value(q) }
        }
        for c in spec["initContainers"].array ?? [] {
            for (r, q) in c["resources"][kind].object ?? [:] { totals[r] = max(totals[r] ?? 0, Quantity.value(q)) }
        }
        for (r, q) in spec["overhead"].object ?? [:] where totals[r] != nil { totals[r, default: 0] += Quantity.value(q) }
        return totals
    }

    /// Whether the quota's scopes (Terminating, NotTerminating, BestEffort, NotBestEffort) take
    /// the object in; scopes only ever narrow pods.
    public static func inScope(_ quota: JSON, _ def: ResourceDefinition, _ object: JSON) -> Bool {
        let scopes = (quota["spec"]["scopes"].array ?? []).compactMap(\.string)
        guard !scopes.isEmpty else { return true }
        guard def.group.isEmpty, def.plural == "pods" else { return false }
        let terminating = object["spec"]["activeDeadlineSeconds"].int != nil
        let bestEffort = PodQOS.qosClass(object["spec"]) == "BestEffort"
        return scopes.allSatisfy { scope in
            switch scope {
            case "Terminating": terminating
            case "NotTerminating": !terminating
            case "BestEffort": bestEffort
            case "NotBestEffort": !bestEffort
            default: true
            }
        }
    }

    /// A quantity as upstream prints one in quota messages and status: whole numbers plain,
    /// fractions of a core in millicores.
    public static func format(_ value: Double, resource: String) -> String {
        if value != value.rounded() { return "\(Quantity.integer((value * 1000).rounded()))m" }
        let whole = Quantity.integer(value)
        // Bytes in the binary suffix they divide by, as memory and storage are usually written.
        if whole != 0, resource.contains("memory") || resource.contains("storage") {
            for (suffix, unit) in [("Ti", Int64(1) << 40), ("Gi", 1 << 30), ("Mi", 1 << 20), ("Ki", 1 << 10)] where whole % unit == 0 {
                return "\(whole / unit)\(suffix)"
            }
        }
        return String(whole)
    }
}
