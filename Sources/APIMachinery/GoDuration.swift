/// Go's duration syntax (`time.ParseDuration`), which the API's `?timeout=` takes: a sequence of
/// decimal numbers, each with an optional fraction and a unit (ns, us, µs, ms, s, m, h), with an
/// optional sign; "0" alone is zero.
public enum GoDuration {
    static let nanosecondsPerUnit: [(String, Double)] = [
        ("ns", 1), ("us", 1e3), ("µs", 1e3), ("μs", 1e3), ("ms", 1e6), ("s", 1e9), ("m", 60e9), ("h", 3600e9),
    ]

    public static func parse(_ text: String) -> Duration? {
        var rest = Substring(text)
        var sign: Double = 1
        if let first = rest.first, first == "-" || first == "+" {
            sign = first == "-" ? -1 : 1
            rest = rest.dropFirst()
        }
        if rest == "0" { return .zero }
        guard !rest.isEmpty else { return nil }
        var nanoseconds: Double = 0
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            guard !number.isEmpty, number != ".", number.filter({ $0 == "." }).count <= 1, let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            let unitText = rest.prefix { !($0.isASCII && ($0.isNumber || $0 == ".")) }
            guard let unit = nanosecondsPerUnit.filter({ $0.0 == unitText }).first else { return nil }
            rest = rest.dropFirst(unitText.count)
            nanoseconds += value * unit.1
        }
        guard nanoseconds < 9.2e18 else { return nil }
        return .nanoseconds(Int64(sign * nanoseconds))
    }
}
