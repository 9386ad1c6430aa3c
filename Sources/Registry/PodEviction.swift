import APIMachinery
import Foundation
import Resources

extension Registry {
    /// pods/eviction, as upstream's EvictionREST: deletes the pod unless that would take the
    /// PodDisruptionBudget covering it below what it allows. An allowed eviction takes one of the
    /// budget's disruptionsAllowed and records the pod among its disruptedPods, in one write, so
    /// two evictions racing cannot both spend the last one; a refused one is 429, which
    /// `kubectl drain` retries.
    public func evict(_ def: ResourceDefinition, namespace: String, name: String, eviction: JSON,
                      options: WriteOptions = .init()) async throws(StatusError) {
        if let named = eviction["metadata"]["name"].string, named != name {
            throw .badRequest("name in URL does not match name in Eviction object")
        }
        var deleteOptions = DeleteOptions()
        deleteOptions.merge(body: eviction["deleteOptions"])
        let pod = try await get(def, namespace: namespace, name: name)
        deleteOptions.preconditionUID = deleteOptions.preconditionUID ?? pod["metadata"]["uid"].string

        // Pods that are not running, or already going, disrupt nothing.
        let phase = pod["status"]["phase"].string ?? "Pending"
        if ["Succeeded", "Failed", "Pending"].contains(phase) || !pod["metadata"]["deletionTimestamp"].isNull {
            _ = try await delete(def, namespace: namespace, name: name, options: deleteOptions)
            return
        }
        guard let pdbDef = catalog.lookup(group: "policy", version: "v1", plural: "poddisruptionbudgets") else {
            _ = try await delete(def, namespace: namespace, name: name, options: deleteOptions)
            return
        }
        let budgets = try await list(pdbDef, namespace: namespace, options: ListOptions()).items.compactMap { try? JSON.parse($0) }
            .filter { pdb in
                // In policy/v1 an empty selector selects every pod, a missing one none.
                guard !pdb["spec"]["selector"].isNull, let selector = try? LabelSelector.fromStructured(pdb["spec"]["selector"]) else { return false }
                return selector.matches(labels: pod["metadata"]["labels"])
            }
        if budgets.count > 1 {
            throw .internalError("This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.")
        }
        if let budget = budgets.first, let budgetName = budget["metadata"]["name"].string {
            let ready = Conditions.status(pod, "Ready") == "True"
            let status = budget["status"]
            // An unready pod adds nothing to the budget's health: it may go while the budget is
            // met (IfHealthyBudget, the default), or always (AlwaysAllow).
            let unhealthyMayGo = budget["spec"]["unhealthyPodEvictionPolicy"] == "AlwaysAllow"
                || ((status["currentHealthy"].int ?? 0) >= (status["desiredHealthy"].int ?? 0) && (status["desiredHealthy"].int ?? 0) > 0)
            if ready || !unhealthyMayGo {
                try await spendDisruption(pdbDef, namespace: namespace, budget: budgetName, pod: name, options: options)
            }
        }
        _ = try await delete(def, namespace: namespace, name: name, options: deleteOptions)
    }

    func spendDisruption(_ pdbDef: ResourceDefinition, namespace: String, budget: String, pod: String,
                         options: WriteOptions) async throws(StatusError) {
        _ = try await patch(pdbDef, namespace: namespace, name: budget, subresource: .status, options: options) { pdb throws(StatusError) in
            let status = pdb["status"]
            let refused = "Cannot evict pod as it would violate the pod's disruption budget."
            func tooMany(_ cause: String, retryAfter: Int64 = 0) -> StatusError {
                var error = StatusError.tooManyRequests(refused)
                error.details = ["causes": [["reason": "DisruptionBudget", "message": .string(cause)]]]
                if retryAfter > 0 { error.details["retryAfterSeconds"] = .int(retryAfter) }
                return error
            }
            if (status["observedGeneration"].int ?? 0) < (pdb["metadata"]["generation"].int ?? 0) {
                throw tooMany("The disruption budget \(budget) is still being processed by the server.", retryAfter: 10)
            }
            let allowed = status["disruptionsAllowed"].int ?? 0
            if allowed < 0 {
                throw .forbidden(GroupResource(group: "policy", resource: "poddisruptionbudget"), budget, "pdb disruptions allowed is negative")
            }
            if allowed == 0 {
                throw tooMany("The disruption budget \(budget) needs \(status["desiredHealthy"].int ?? 0) healthy pods and has \(status["currentHealthy"].int ?? 0) currently")
            }
            var o = pdb
            o["status"]["disruptionsAllowed"] = .int(allowed - 1)
            o["status"]["disruptedPods"][pod] = .string(APITime.format(Date()))
            if allowed == 1 { PodDisruptionBudgetStatus.setAllowedCondition(&o, allowed: false) }
            return o
        }
    }
}
