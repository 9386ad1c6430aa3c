import APIMachinery
import Foundation

/// The DisruptionAllowed condition, as the eviction subresource and the disruption controller both set it.
public enum PodDisruptionBudgetStatus {
    /// SufficientPods or InsufficientPods by default; `reason` and `message` when the sync failed.
    public static func setAllowedCondition(_ pdb: inout JSON, allowed: Bool, reason: String? = nil, message: String = "",
                                           now: Date = Date()) {
        Conditions.set(&pdb, ["type": "DisruptionAllowed", "status": allowed ? "True" : "False",
                              "reason": .string(reason ?? (allowed ? "SufficientPods" : "InsufficientPods")), "message": .string(message),
                              "observedGeneration": pdb["status"]["observedGeneration"], "lastTransitionTime": .string(APITime.format(now))])
    }
}
