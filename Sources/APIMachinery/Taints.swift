/// Taints and tolerations matched as upstream's core/v1 helpers match them, shared by the
/// scheduler's TaintToleration filter and the controllers that evict or place pods by taint.
public enum Taints {
    /// Whether one toleration tolerates the taint: an empty effect matches every effect, an empty
    /// key with Exists matches every key, Exists ignores the value and Equal (the default) compares it.
    public static func tolerates(_ toleration: JSON, _ taint: JSON) -> Bool {
        let effect = toleration["effect"].string ?? ""
        guard effect.isEmpty || effect == taint["effect"].string else { return false }
        let key = toleration["key"].string ?? ""
        if key.isEmpty { return toleration["operator"].string == "Exists" }
        guard key == taint["key"].string else { return false }
        return toleration["operator"].string == "Exists" || (toleration["value"].string ?? "") == (taint["value"].string ?? "")
    }

    /// Whether any of the pod's tolerations tolerates the taint.
    public static func podTolerates(_ pod: JSON, _ taint: JSON) -> Bool {
        (pod["spec"]["tolerations"].array ?? []).contains { tolerates($0, taint) }
    }
}
