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
        guard fields.count == 5 else {
            throw ParseError(description: "expected exactly 5 fields, found \(fields.count): [\(fields.joined(separator: " "))]")
        }
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

    /// One field, worded as robfig/cron's parser words its errors (which upstream's validation quotes).
    static func field(_ text: String, _ range: ClosedRange<Int>, _ names: [String: Int]) throws(ParseError) -> Set<Int> {
        var values: Set<Int> = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
            let stepParts = part.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            var step = 1
            if stepParts.count == 2 {
                step = try number(stepParts[1], [:])
                if step <= 0 { throw ParseError(description: "step of range should be a positive number: \(part)") }
            }
            var low = range.lowerBound, high = range.upperBound
            if stepParts[0] != "*" && stepParts[0] != "?" {
                let bounds = stepParts[0].split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false).map { String($0).lowercased() }
                low = try number(bounds[0], names)
                high = bounds.count == 2 ? try number(bounds[1], names) : (stepParts.count == 2 ? range.upperBound : low)
            }
            if low < range.lowerBound { throw ParseError(description: "beginning of range (\(low)) below minimum (\(range.lowerBound)): \(part)") }
            if high > range.upperBound { throw ParseError(description: "end of range (\(high)) above maximum (\(range.upperBound)): \(part)") }
            if low > high { throw ParseError(description: "beginning of range (\(low)) beyond end of range (\(high)): \(part)") }
            values.formUnion(stride(from: low, through: high, by: step))
        }
        return values
    }

    static func number(_ s: String, _ names: [String: Int]) throws(ParseError) -> Int {
        if let named = names[s.lowercased()] { return named }
        guard let n = Int(s), n >= 0 else {
            throw ParseError(description: "failed to parse int from \(s): strconv.Atoi: parsing \"\(s)\": invalid syntax")
        }
        return n
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
