import Foundation

/// apimachinery's intstr.IntOrString: a count (`2`) or a share of a total (`"25%"`), as in
/// maxSurge, maxUnavailable and minAvailable.
public enum IntOrString {
    /// The value against `total` (intstr.GetScaledValueFromIntOrPercent): an integer as it is, a
    /// percentage of the total rounded up or down; nil when the value is neither.
    public static func scaledValue(_ value: JSON, total: Int64, roundUp: Bool) -> Int64? {
        if let n = value.int { return n }
        guard let percent = percentage(value) else { return nil }
        let exact = Double(total) * Double(percent) / 100
        return Int64(roundUp ? exact.rounded(.up) : exact.rounded(.down))
    }

    /// `"25%"` as 25; nil for anything else (`"-5%"` or a bare number in a string, as upstream).
    public static func percentage(_ value: JSON) -> Int64? {
        guard let s = value.string, s.hasSuffix("%"), s.count > 1, s.dropLast().allSatisfy({ ("0"..."9").contains($0) }) else { return nil }
        return Int64(s.dropLast())
    }

    /// Upstream's check for such a field: a non-negative integer, or a percentage of at most
    /// 100% (what ValidatePositiveIntOrPercent and IsNotMoreThan100Percent say).
    public static func errors(_ value: JSON, _ field: String) -> [FieldError] {
        if let n = value.int {
            return n < 0 ? [.invalid(field, value, "must be greater than or equal to 0")] : []
        }
        guard value.string != nil else { return [.invalid(field, value, "must be an integer or percentage (e.g '5%')")] }
        guard let percent = percentage(value) else {
            return [.invalid(field, value, "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%', or '93%', regex used for validation is '[0-9]+%')")]
        }
        if percent > 100 { return [.invalid(field, value, "must not be greater than 100%")] }
        return []
    }
}
