import Foundation

/// A resource quantity ("100m", "128Mi", "2", "1e3"), as upstream's resource.Quantity reads it:
/// a number with a binary (Ki..Ei), decimal (n, u, m, k, M..E) or exponent suffix.
public enum Quantity {
    static let suffixes: [String: Double] = [
        "n": 1e-9, "u": 1e-6, "m": 1e-3, "": 1, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
        "Ki": 1024, "Mi": 1_048_576, "Gi": 1_073_741_824, "Ti": 1_099_511_627_776, "Pi": 1_125_899_906_842_624,
        "Ei": 1_152_921_504_606_846_976,
    ]

    /// The value in base units (cores, bytes), or nil when the text is not a quantity.
    public static func parse(_ text: String) -> Double? {
        let s = text.trimmingCharacters(in: .whitespaces)
        guard let end = s.firstIndex(where: { !($0.isNumber || $0 == "." || $0 == "+" || $0 == "-") }) else { return Double(s) }
        guard let number = Double(s[..<end]) else { return nil }
        let suffix = String(s[end...])
        if let scale = suffixes[suffix] { return number * scale }
        if let e = suffix.first, e == "e" || e == "E", let exponent = Int(suffix.dropFirst()) { return number * pow(10, Double(exponent)) }
        return nil
    }

    /// A JSON quantity (string or number) in base units; absent or unreadable is 0.
    public static func value(_ json: JSON) -> Double {
        if let n = json.number { return n }
        return json.string.flatMap(parse) ?? 0
    }

    /// CPU in millicores, rounded up as upstream's MilliValue is.
    public static func milli(_ json: JSON) -> Int64 { integer(value(json) * 1000) }

    /// The value in base units (bytes, pods), rounded up as upstream's Value is.
    public static func integer(_ json: JSON) -> Int64 { integer(value(json)) }

    /// A quantity may be far beyond Int64 ("100E" of memory is valid): upstream's conversion then
    /// overflows silently, a trap here would stop the whole process, so the value saturates.
    public static func integer(_ value: Double) -> Int64 {
        let up = value.rounded(.up)
        if up.isNaN { return 0 }
        if up >= 0x1p63 { return .max }
        if up < -0x1p63 { return .min }
        return Int64(up)
    }
}

extension Int64 {
    /// Sums of quantities (a pod's containers, a node's pods) stop at the bounds rather than trap.
    public func addingSaturated(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : sum
    }

    public func subtractingSaturated(_ other: Int64) -> Int64 {
        let (difference, overflow) = subtractingReportingOverflow(other)
        return overflow ? (other < 0 ? .max : .min) : difference
    }

    public func multipliedSaturated(by other: Int64) -> Int64 {
        let (product, overflow) = multipliedReportingOverflow(by: other)
        return overflow ? ((self < 0) == (other < 0) ? .max : .min) : product
    }
}
