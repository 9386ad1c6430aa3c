import Foundation
import Storage
import XCTest

final class SQLiteStoreTests: XCTestCase {
    var dir: URL!

    override func setUp() {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("cubby-store-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    var path: String { dir.appendingPathComponent("state.db").path }


    func testConcurrentWritersGetDistinctIncreasingRevisions() async throws {
        let store = try SQLiteStore(path: path)
        let revisions = try await withThrowingTaskGroup(of: [Int64].self) { group in
            for w in 0..<8 {
                group.addTask {
                    var revs: [Int64] = []
                    for i in 0..<50 { revs.append(try await store.create("/k/\(w)/\(i)", encode: value("x")).revision) }
                    return revs
                }
            }
            var all: [[Int64]] = []
            for try await r in group { all.append(r) }
            return all
        }
        for perWriter in revisions { XCTAssertEqual(perWriter, perWriter.sorted(), "a writer's own writes are ordered") }
        let flat = revisions.flatMap { $0 }
        XCTAssertEqual(Set(flat).count, 400)
        XCTAssertEqual(Set(flat), Set(1...400))
        let current = await store.currentRevision()
        XCTAssertEqual(current, 400)
        await store.close()
    }

    func testStoredBytesCarryTheirRevision() async throws {
        let store = try SQLiteStore(path: path)
        let o = try await store.create("/a", encode: value("one"))
        XCTAssertEqual(String(decoding: o.value, as: UTF8.self), "{\"v\":\"one\",\"rv\":1}")
        await store.close()
    }

    func testUpdateWithStaleRevisionConflicts() async throws {
        let store = try SQLiteStore(path: path)
        let a = try await store.create("/a", encode: value("1"))
        _ = try await store.update("/a", expectedRevision: a.revision, encode: value("2"))
        do {
            _ = try await store.update("/a", expectedRevision: a.revision, encode: value("3"))
            XCTFail("stale update succeeded")
        } catch let e as StorageError {
            XCTAssertEqual(e, .conflict(key: "/a", current: 2))
        }
        do {
            _ = try await store.create("/a", encode: value("again"))
            XCTFail("duplicate create succeeded")
        } catch let e as StorageError {
            XCTAssertEqual(e, .keyExists("/a"))
        }
        await store.close()
    }

    func testPagesOfAnOlderRevisionStayConsistent() async throws {
        let store = try SQLiteStore(path: path)
        for i in 0..<10 { _ = try await store.create("/p/\(i)", encode: value("\(i)")) }
        let first = try await store.list(prefix: "/p/", startAfter: nil, limit: 4, at: nil)
        XCTAssertEqual(first.objects.map(\.key), ["/p/0", "/p/1", "/p/2", "/p/3"])
        XCTAssertTrue(first.hasMore)
        // Writes after the first page: a new key, a deletion and a change.
        _ = try await store.create("/p/35", encode: value("new"))
        _ = try await store.delete("/p/5", expectedRevision: nil)
        let six = try await store.get("/p/6")!
        _ = try await store.update("/p/6", expectedRevision: six.revision, encode: value("changed"))
        let second = try await store.list(prefix: "/p/", startAfter: first.objects.last!.key, limit: 100, at: first.revision)
        XCTAssertEqual(second.objects.map(\.key), ["/p/4", "/p/5", "/p/6", "/p/7", "/p/8", "/p/9"])
        XCTAssertEqual(second.objects.first { $0.key == "/p/6" }?.value, six.value)
        XCTAssertFalse(second.hasMore)
        let now = try await store.list(prefix: "/p/", startAfter: nil, limit: nil, at: nil)
        XCTAssertEqual(now.objects.count, 10)
        XCTAssertTrue(now.objects.contains { $0.key == "/p/35" })
        await store.close()
    }

    func testWatchResumesFromARevisionThenFollows() async throws {
        let store = try SQLiteStore(path: path)
        let a = try await store.create("/w/a", encode: value("a"))
        _ = try await store.create("/w/b", encode: value("b"))
        _ = try await store.create("/other/x", encode: value("x"))
        _ = try await store.update("/w/a", expectedRevision: a.revision, encode: value("a2"))
        let watch = try await store.watch(prefix: "/w/", after: a.revision, initialState: false)
        _ = try await store.delete("/w/b", expectedRevision: nil)
        var it = watch.events.makeAsyncIterator()
        var seen: [(StorageEvent.Kind, String, Int64)] = []
        for _ in 0..<3 {
            let e = await it.next()!
            seen.append((e.kind, e.object.key, e.revision))
        }
        XCTAssertEqual(seen.map(\.0), [.added, .modified, .deleted])
        XCTAssertEqual(seen.map(\.1), ["/w/b", "/w/a", "/w/b"])
        XCTAssertEqual(seen.map(\.2), [2, 4, 5])
        watch.cancel()
        await store.close()
    }

    func testCompactedHistoryIsRefused() async throws {
        let store = try SQLiteStore(path: path)
        let a = try await store.create("/c/a", encode: value("1"))
        var rev = a.revision
        for i in 0..<5 { rev = try await store.update("/c/a", expectedRevision: rev, encode: value("\(i)")).revision }
        try await store.compact(to: rev - 1)
        do {
            _ = try await store.watch(prefix: "/c/", after: a.revision, initialState: false)
            XCTFail("watch from a compacted revision succeeded")
        } catch let e as StorageError {
            guard case .compacted = e else { return XCTFail("unexpected \(e)") }
        }
        // The newest state survives compaction.
        let current = try await store.get("/c/a")
        XCTAssertEqual(current?.revision, rev)
        await store.close()
    }

    /// A snapshot taken while the store is open, restored after other writes: exactly its objects,
    /// at revisions above every earlier one, carried in their bytes; watches end as compacted.
    func testRestoredSnapshotReplacesEveryObjectAtHigherRevisions() async throws {
        let store = try SQLiteStore(path: path)
        let kept = try await store.create("/s/kept", encode: meta("kept"))
        _ = try await store.update("/s/kept", expectedRevision: kept.revision, encode: meta("kept"))
        _ = try await store.create("/s/gone", encode: meta("gone"))
        let copy = dir.appendingPathComponent("snapshot.db").path
        let saved = try SQLiteStore.saveSnapshot(of: path, to: copy)
        XCTAssertEqual([saved.format, Int(saved.revision), saved.objects], [SQLiteStore.formatVersion, 3, 2])

        _ = try await store.delete("/s/gone", expectedRevision: nil)
        _ = try await store.create("/s/new", encode: meta("new"))
        let before = await store.currentRevision()
        let watch = try await store.watch(prefix: "/s/", after: nil, initialState: false)
        let summary = try await store.restore(from: copy)
        XCTAssertEqual(summary, RestoreSummary(objects: 2, previousRevision: before, revision: before + 3))

        let objects = try await store.list(prefix: "/s/", startAfter: nil, limit: nil, at: nil).objects
        XCTAssertEqual(objects.map(\.key), ["/s/gone", "/s/kept"])
        XCTAssertTrue(objects.allSatisfy { $0.revision > before })
        for o in objects {
            let json = try JSONSerialization.jsonObject(with: o.value) as! [String: Any]
            XCTAssertEqual((json["metadata"] as! [String: Any])["resourceVersion"] as? String, String(o.revision))
        }
        // The watch was ended, and says why; a watch from before the restore is refused.
        var it = watch.events.makeAsyncIterator()
        let event = await it.next()
        XCTAssertNil(event)
        XCTAssertEqual(watch.endReason(), .compacted(requested: before, compacted: before + 1))
        let refused = await storageError { _ = try await store.watch(prefix: "/s/", after: before, initialState: false) }
        XCTAssertEqual(refused, .compacted(requested: before, compacted: before + 1))
        // Writes go on above the restore, and all of it survives a restart.
        let next = try await store.create("/s/after", encode: meta("after"))
        XCTAssertEqual(next.revision, summary.revision + 1)
        await store.close()
        let reopened = try SQLiteStore(path: path)
        let keys = try await reopened.list(prefix: "/s/", startAfter: nil, limit: nil, at: nil).objects.map(\.key)
        XCTAssertEqual(keys, ["/s/after", "/s/gone", "/s/kept"])
        await reopened.close()
    }

    /// A damaged or newer snapshot is refused before the store changes.
    func testSnapshotThatCannotBeReadChangesNothing() async throws {
        let store = try SQLiteStore(path: path)
        _ = try await store.create("/s/a", encode: value("a"))
        let junk = dir.appendingPathComponent("junk.db").path
        _ = FileManager.default.createFile(atPath: junk, contents: Data(repeating: 7, count: 8192))
        let refused = await storageError { _ = try await store.restore(from: junk) }
        XCTAssertEqual(refused, .io("\(junk) is not a cubby store (file is not a database)"))
        let after = try await store.list(prefix: "/s/", startAfter: nil, limit: nil, at: nil)
        XCTAssertEqual(after.objects.map(\.key), ["/s/a"])
        XCTAssertEqual(after.revision, 1)
        await store.close()
    }

    func testRestartKeepsEveryObjectAndTheRevision() async throws {
        var store: SQLiteStore? = try SQLiteStore(path: path)
        for i in 0..<20 { _ = try await store!.create("/r/\(i)", encode: value("\(i)")) }
        _ = try await store!.delete("/r/3", expectedRevision: nil)
        let before = try await store!.list(prefix: "/r/", startAfter: nil, limit: nil, at: nil)
        await store!.close()
        store = nil
        let reopened = try SQLiteStore(path: path)
        let after = try await reopened.list(prefix: "/r/", startAfter: nil, limit: nil, at: nil)
        XCTAssertEqual(after.objects, before.objects)
        let rev = await reopened.currentRevision()
        XCTAssertEqual(rev, 21)
        let next = try await reopened.create("/r/new", encode: value("n"))
        XCTAssertEqual(next.revision, 22)
        await reopened.close()
    }

    func testNewerStoreFormatIsRefused() async throws {
        let store = try SQLiteStore(path: path)
        await store.close()
        let proc = Process()
        proc.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        proc.arguments = ["python3", "-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(\"UPDATE meta SET value=99 WHERE name='format_version'\"); c.commit()", path]
        try proc.run()
        proc.waitUntilExit()
        XCTAssertEqual(proc.terminationStatus, 0)
        XCTAssertThrowsError(try SQLiteStore(path: path)) { error in
            XCTAssertEqual(error as? StorageError, .unsupportedFormat(found: 99, supported: SQLiteStore.formatVersion))
        }
    }
}

/// A stored value that records the revision it was written at.
/// The StorageError a body throws, if any.
func storageError(_ body: () async throws -> Void) async -> StorageError? {
    do { try await body() } catch { return error as? StorageError }
    return nil
}

/// An object's bytes as the registry writes them: metadata with the revision as resourceVersion.
func meta(_ name: String) -> @Sendable (Int64?) -> Data {
    { rev in Data("{\"kind\":\"X\",\"metadata\":{\"name\":\"\(name)\",\"resourceVersion\":\"\(rev ?? 0)\"}}".utf8) }
}

func value(_ s: String) -> @Sendable (Int64?) -> Data { { rev in Data("{\"v\":\"\(s)\",\"rv\":\(rev.map(String.init) ?? "null")}".utf8) } }
