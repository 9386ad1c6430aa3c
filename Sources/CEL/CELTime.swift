import APIMachinery
import Foundation

/// A CEL timestamp, exact to the nanosecond as cel-go's (a Date's double loses the last digits):
/// seconds since the Unix epoch and the nanoseconds after them, from year 1 to year 9999.
public struct CELTimestamp: Comparable, Hashable, Sendable {
    public let seconds: Int64
    public let nanos: Int64

    /// 0001-01-01T00:00:00Z and 10000-01-01T00:00:00Z.
    static let earliest: Int64 = -62_135_596_800, end: Int64 = 253_402_300_800

    /// nil outside years 1 to 9999.
    public init?(seconds: Int64, nanos: Int64 = 0) {
        let (carry, rest) = nanos.quotientAndRemainder(dividingBy: 1_000_000_000)
        var s = seconds.addingReportingOverflow(carry)
        var n = rest
        if n < 0 { n += 1_000_000_000; s = s.partialValue.subtractingReportingOverflow(1) }
        guard !s.overflow, s.partialValue >= Self.earliest, s.partialValue < Self.end else { return nil }
        self.seconds = s.partialValue
        self.nanos = n
    }

    public init?(_ date: Date) {
        let whole = date.timeIntervalSince1970.rounded(.down)
        self.init(seconds: Int64(whole), nanos: Int64(((date.timeIntervalSince1970 - whole) * 1e9).rounded()))
    }

    public var date: Date { Date(timeIntervalSince1970: Double(seconds) + Double(nanos) / 1e9) }

    public static func < (a: Self, b: Self) -> Bool { (a.seconds, a.nanos) < (b.seconds, b.nanos) }

    /// The timestamp `nanoseconds` later (earlier when negative); nil out of range.
    public func adding(nanoseconds: Int64) -> CELTimestamp? { CELTimestamp(seconds: seconds, nanos: nanos + nanoseconds) }

    /// `self - other` in nanoseconds; nil when it does not fit a Go duration.
    public func nanoseconds(since other: CELTimestamp) -> Int64? {
        let (s, o1) = (seconds - other.seconds).multipliedReportingOverflow(by: 1_000_000_000)
        let (total, o2) = s.addingReportingOverflow(nanos - other.nanos)
        return o1 || o2 ? nil : total
    }

    /// RFC 3339 with up to nine fractional digits and a `Z` or `±HH:MM` offset.
    public static func parse(_ text: String) -> CELTimestamp? {
        let b = Array(text.utf8)
        func digits(_ at: Int, _ n: Int) -> Int64? {
            guard at + n <= b.count else { return nil }
            var v: Int64 = 0
            for c in b[at..<at + n] { guard c >= 48, c <= 57 else { return nil }; v = v * 10 + Int64(c - 48) }
            return v
        }
        guard b.count >= 20, let year = digits(0, 4), b[4] == 45, let month = digits(5, 2), b[7] == 45, let day = digits(8, 2),
              b[10] == 84 || b[10] == 116, let hour = digits(11, 2), b[13] == 58, let minute = digits(14, 2), b[16] == 58,
              let second = digits(17, 2), (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 60
        else { return nil }
        var i = 19, nanos: Int64 = 0
        if i < b.count, b[i] == 46 {
            i += 1
            var count = 0
            while i < b.count, b[i] >= 48, b[i] <= 57 {
                guard count < 9 else { return nil }
                nanos = nanos * 10 + Int64(b[i] - 48); count += 1; i += 1
            }
            guard count > 0 else { return nil }
            for _ in count..<9 { nanos *= 10 }
        }
        var offset: Int64 = 0
        if i < b.count, b[i] == 90 || b[i] == 122 { i += 1 } else {
            guard i + 6 == b.count, b[i] == 43 || b[i] == 45, let h = digits(i + 1, 2), b[i + 3] == 58, let m = digits(i + 4, 2), h < 24, m < 60 else { return nil }
            offset = (b[i] == 45 ? -1 : 1) * (h * 3600 + m * 60)
            i += 6
        }
        guard i == b.count, day <= daysIn(month: month, year: year) else { return nil }
        let days = daysSinceEpoch(year: year, month: month, day: day)
        return CELTimestamp(seconds: days * 86_400 + hour * 3600 + minute * 60 + second - offset, nanos: nanos)
    }

    /// As Go's RFC3339Nano writes it in UTC: the fraction without trailing zeros.
    public var rfc3339: String {
        let (days, secondOfDay) = seconds.floorDivided(by: 86_400)
        let (year, month, day) = Self.civil(days)
        var text = String(format: "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld", year, month, day, secondOfDay / 3600, secondOfDay / 60 % 60, secondOfDay % 60)
        if nanos > 0 {
            var fraction = String(format: "%09lld", nanos)
            while fraction.hasSuffix("0") { fraction.removeLast() }
            text += "." + fraction
        }
        return text + "Z"
    }

    static func daysIn(month: Int64, year: Int64) -> Int64 {
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        return [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][Int(month - 1)]
    }

    /// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's days_from_civil).
    static func daysSinceEpoch(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The date of a day counted from 1970-01-01 (civil_from_days).
    static func civil(_ days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

/// CEL durations are Go's time.Duration: whole nanoseconds in an Int64 (about ±292 years).
enum CELDuration {
    static func parse(_ text: String) -> Int64? {
        guard let d = GoDuration.parse(text) else { return nil }
        let (s, o1) = d.components.seconds.multipliedReportingOverflow(by: 1_000_000_000)
        let (total, o2) = s.addingReportingOverflow(d.components.attoseconds / 1_000_000_000)
        return o1 || o2 ? nil : total
    }

    /// As cel-go converts a duration to a string: seconds, with a fraction only when there is one.
    static func format(_ nanoseconds: Int64) -> String {
        let sign = nanoseconds < 0 ? "-" : ""
        let magnitude = nanoseconds.magnitude
        var text = sign + String(magnitude / 1_000_000_000)
        if magnitude % 1_000_000_000 != 0 {
            var fraction = String(format: "%09llu", magnitude % 1_000_000_000)
            while fraction.hasSuffix("0") { fraction.removeLast() }
            text += "." + fraction
        }
        return text + "s"
    }
}

extension Int64 {
    /// Division rounding toward negative infinity, with a non-negative remainder.
    func floorDivided(by d: Int64) -> (Int64, Int64) {
        let (q, r) = quotientAndRemainder(dividingBy: d)
        return r < 0 ? (q - 1, r + d) : (q, r)
    }
}
