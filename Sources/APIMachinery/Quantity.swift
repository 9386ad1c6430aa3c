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
    public static func milli(_ json: JSON) -> Int64 { Int64((value(json) * 1000).rounded(.up)) }
}
