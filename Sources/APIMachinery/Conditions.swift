import Foundation

/// Status conditions as upstream's controllers, scheduler and kubelet keep them: one condition a
/// type, replaced in place, its lastTransitionTime moving only when its status does. Every
/// component sets conditions through here.
public enum Conditions {
    /// `condition` (made with lastTransitionTime now) with the transition time of the condition
    /// of its type in `existing` instead, when that one has the same status.
    public static func keepingTransitionTime(_ condition: JSON, from existing: [JSON]) -> JSON {
        guard let old = existing.first(where: { $0["type"] == condition["type"] }), old["status"] == condition["status"],
              !old["lastTransitionTime"].isNull else { return condition }
        var kept = condition
        kept["lastTransitionTime"] = old["lastTransitionTime"]
        return kept
    }

    /// Puts `condition` in place of the one of its type in `object`'s status.conditions (appended
    /// when it is new), keeping the transition time while the status is unchanged.
    public static func set(_ object: inout JSON, _ condition: JSON) {
        var conditions = object["status"]["conditions"].array ?? []
        set(&conditions, condition)
        object["status"]["conditions"] = .array(conditions)
    }

    /// The same, on a list of conditions.
    public static func set(_ conditions: inout [JSON], _ condition: JSON) {
        let condition = keepingTransitionTime(condition, from: conditions)
        if let i = conditions.firstIndex(where: { $0["type"] == condition["type"] }) {
            conditions[i] = condition
        } else {
            conditions.append(condition)
        }
    }

    /// The status ("True", "False", "Unknown") of the object's condition of `type`, if it has one.
    public static func status(_ object: JSON, _ type: String) -> String? {
        object["status"]["conditions"].array?.first { $0["type"].string == type }?["status"].string
    }
}

/// Pod conditions in the shape the kubelet and scheduler write them (lastProbeTime null).
public enum PodConditions {
    public static func set(_ pod: inout JSON, type: String, status: String, reason: String? = nil, message: String? = nil,
                           now: String = APITime.format(Date())) {
        var condition: JSON = ["type": .string(type), "status": .string(status), "lastProbeTime": nil, "lastTransitionTime": .string(now)]
        if let reason { condition["reason"] = .string(reason) }
        if let message { condition["message"] = .string(message) }
        Conditions.set(&pod, condition)
    }
}
