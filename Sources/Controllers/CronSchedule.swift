import Foundation

/// A cron schedule as upstream's CronJobs read it (robfig/cron's standard parser): five fields
/// (minute hour day-of-month month day-of-week) with `*`, `?`, lists, ranges, steps and month
/// and day names, or a macro (@hourly, @daily, ...). When both day fields are restricted, a day
/// matching either runs, as in Vixie cron.
public struct CronSchedule: Sendable {
    let minutes: Set<Int>, hours: Set<Int>, days: Set<Int>, months: Set<Int>, weekdays: Set<Int>
    let daysStar: Bool, weekdaysStar: Bool

    static let macros = ["@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
                         "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"]
    static let monthNames = ["jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12]
    static let dayNames = ["sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6]

    public struct ParseError: Error, CustomStringConvertible {
        public let description: String
    }

    public init(_ text: String) throws(ParseError) {
        let expanded = Self.macros[text.trimmingCharacters(in: .whitespaces).lowercased()] ?? text
        let fields = expanded.split(whereSeparator: \.isWhitespace).map(String.init)
        guard fields.count == 5 else { throw ParseError(description: "expected exactly 5 fields, found \(fields.count): \(text)") }
        minutes = try Self.field(fields[0], 0...59, [:])
        hours = try Self.field(fields[1], 0...23, [:])
        days = try Self.field(fields[2], 1...31, [:])
        months = try Self.field(fields[3], 1...12, Self.monthNames)
        var dow = try Self.field(fields[4], 0...7, Self.dayNames)
        if dow.contains(7) { dow.remove(7); dow.insert(0) }
        weekdays = dow
        daysStar = fields[2] == "*" || fields[2] == "?"
        weekdaysStar = fields[4] == "*" || fields[4] == "?"
    }

    static func field(_ text: String, _ range: ClosedRange<Int>, _ names: [String: Int]) throws(ParseError) -> Set<Int> {
        var values: Set<Int> = []
        for part in text.split(separator: ",") {
            let stepParts = part.split(separator: "/", maxSplits: 1)
            var step = 1
            if stepParts.count == 2 {
                guard let s = Int(stepParts[1]), s > 0 else { throw ParseError(description: "invalid step in \(text)") }
                step = s
            }
            let base = String(stepParts[0])
            var low = range.lowerBound, high = range.upperBound
            if base != "*" && base != "?" {
                let bounds = base.split(separator: "-", maxSplits: 1).map { String($0).lowercased() }
                func value(_ s: String) throws(ParseError) -> Int {
                    guard let v = Int(s) ?? names[s], range.contains(v) else {
                        throw ParseError(description: "value \(s) out of range [\(range.lowerBound), \(range.upperBound)] in \(text)")
                    }
                    return v
                }
                low = try value(bounds[0])
                high = bounds.count == 2 ? try value(bounds[1]) : (stepParts.count == 2 ? range.upperBound : low)
                guard low <= high else { throw ParseError(description: "beginning of range after end in \(text)") }
            }
            values.formUnion(stride(from: low, through: high, by: step))
        }
        return values
    }

    /// The first time strictly after `date` that the schedule fires, in `timeZone`.
    public func next(after date: Date, in timeZone: TimeZone) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        // The minute after the one `date` falls in.
        let truncated = calendar.date(from: calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)) ?? date
        let startMinute = truncated.addingTimeInterval(60)
        let firstDay = calendar.startOfDay(for: startMinute)
        for offset in 0..<(366 * 5) {
            guard let day = calendar.date(byAdding: .day, value: offset, to: firstDay) else { return nil }
            let c = calendar.dateComponents([.month, .day, .weekday], from: day)
            guard let month = c.month, let dom = c.day, let weekday = c.weekday.map({ $0 - 1 }), months.contains(month) else { continue }
            let dayOK = daysStar || weekdaysStar ? days.contains(dom) && weekdays.contains(weekday) : days.contains(dom) || weekdays.contains(weekday)
            guard dayOK else { continue }
            for hour in hours.sorted() {
                for minute in minutes.sorted() {
                    guard let t = calendar.date(bySettingHour: hour, minute: minute, second: 0, of: day), t >= startMinute else { continue }
                    return t
                }
            }
        }
        return nil
    }
}
