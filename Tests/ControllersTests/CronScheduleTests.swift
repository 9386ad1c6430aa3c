import Controllers
import APIMachinery
import Foundation
import XCTest

/// Cron schedules as upstream's parser reads them, and the next run times they give.
final class CronScheduleTests: XCTestCase {
    let utc = TimeZone(identifier: "UTC")!

    func date(_ s: String) -> Date { ISO8601DateFormatter().date(from: s)! }

    func next(_ schedule: String, after: String, zone: TimeZone? = nil) throws -> String? {
        try CronSchedule(schedule).next(after: date(after), in: zone ?? utc).map {
            let f = ISO8601DateFormatter()
            f.timeZone = utc
            return f.string(from: $0)
        }
    }

    func testEveryMinuteIsTheNextWholeMinute() throws {
        XCTAssertEqual(try next("*/1 * * * *", after: "2026-11-25T09:49:09Z"), "2026-11-25T09:50:00Z")
        XCTAssertEqual(try next("* * * * *", after: "2026-11-25T09:50:00Z"), "2026-11-25T09:51:00Z")
    }

    func testRangesStepsListsAndNames() throws {
        XCTAssertEqual(try next("15,45 9-17/4 * * *", after: "2026-11-25T09:20:00Z"), "2026-11-25T09:45:00Z")
        XCTAssertEqual(try next("15,45 9-17/4 * * *", after: "2026-11-25T09:50:00Z"), "2026-11-25T13:15:00Z")
        XCTAssertEqual(try next("0 0 * jan mon", after: "2026-11-25T00:00:00Z"), "2027-01-04T00:00:00Z")
        XCTAssertEqual(try next("@hourly", after: "2026-11-25T09:00:00Z"), "2026-11-25T10:00:00Z")
        XCTAssertEqual(try next("0 12 * * 7", after: "2026-11-25T00:00:00Z"), "2026-11-29T12:00:00Z", "7 is Sunday too")
    }

    func testRestrictedDayFieldsMatchEither() throws {
        // The 1st of the month or any Friday, as Vixie cron reads both day fields set.
        XCTAssertEqual(try next("0 0 1 * 5", after: "2026-11-25T00:00:00Z"), "2026-11-27T00:00:00Z")
        XCTAssertEqual(try next("0 0 1 * 5", after: "2026-11-28T00:00:00Z"), "2026-12-01T00:00:00Z")
    }

    func testTimeZone() throws {
        let tokyo = TimeZone(identifier: "Asia/Tokyo")!
        XCTAssertEqual(try next("0 9 * * *", after: "2026-11-25T01:00:00Z", zone: tokyo), "2026-11-26T00:00:00Z")
    }

    func testBadSchedulesAreRefused() {
        XCTAssertThrowsError(try CronSchedule("* * * *"))
        XCTAssertThrowsError(try CronSchedule("61 * * * *"))
        XCTAssertThrowsError(try CronSchedule("*/0 * * * *"))
        XCTAssertThrowsError(try CronSchedule("5-1 * * * *"))
    }
}
