import Client
import XCTest

/// The work queue's promises: no key twice in the queue, none to two workers at once, and a
/// key changed while worked on comes back once the worker is done.
final class WorkQueueTests: XCTestCase {
    func testKeysAreDeduplicatedAndRequeuedAfterDone() async {
        let q = WorkQueue()
        q.add("a")
        q.add("b")
        q.add("a")
        XCTAssertEqual(q.count, 2)
        let first = await q.get()
        XCTAssertEqual(first, "a")
        q.add("a")  // changed while being worked on: not handed out again yet
        let second = await q.get()
        XCTAssertEqual(second, "b")
        XCTAssertEqual(q.count, 0)
        q.done("a")
        XCTAssertEqual(q.count, 1)
        let third = await q.get()
        XCTAssertEqual(third, "a")
    }

    func testWaitingWorkerGetsTheNextKeyAndShutDownEndsIt() async {
        let q = WorkQueue()
        async let waiting = q.get()
        try? await Task.sleep(for: .milliseconds(20))
        q.add("x")
        let got = await waiting
        XCTAssertEqual(got, "x")
        async let ended = q.get()
        try? await Task.sleep(for: .milliseconds(20))
        q.shutDown()
        let none = await ended
        XCTAssertNil(none)
    }
}
