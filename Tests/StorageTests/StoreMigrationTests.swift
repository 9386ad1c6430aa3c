import Foundation
import GRDB
import Storage
import XCTest

/// The format check a start makes before anything is written, and the step-by-step migration of
/// an older store (exercised here with steps of the test's own: format 1 has none yet).
final class StoreMigrationTests: XCTestCase {
    var dir: URL!

    override func setUp() {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("cubby-migrate-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    var path: String { dir.appendingPathComponent("state.db").path }

    func makeStore() async throws {
        let store = try SQLiteStore(path: path)
        _ = try await store.create("/registry/configmaps/default/kept", encode: value("kept"))
        await store.close()
    }

    func files() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() }

    func testOlderStoreIsMigratedOneStepAtATime() async throws {
        try await makeStore()
        XCTAssertEqual(SQLiteStore.check(path: path), .current)
        XCTAssertEqual(SQLiteStore.check(path: path, supported: 3), .older(1))
        let ran = Ran()
        let steps: [Int: StoreMigrations.Step] = [
            1: { db in ran.add(1); try db.execute(sql: "ALTER TABLE log ADD COLUMN lease INTEGER NOT NULL DEFAULT 0") },
            2: { db in ran.add(2); try db.execute(sql: "UPDATE log SET lease = 7") },
        ]
        XCTAssertEqual(try SQLiteStore.migrate(path: path, to: 3, steps: steps), 1)
        XCTAssertEqual(ran.steps, [1, 2])
        XCTAssertEqual(SQLiteStore.check(path: path, supported: 3), .current)
        // This binary reads up to format 1, so the migrated store is now a newer one to it.
        XCTAssertEqual(SQLiteStore.check(path: path), .newer(3))
        let migrated = try Data(contentsOf: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try SQLiteStore(path: path)) { error in
            XCTAssertEqual(error as? StorageError, .unsupportedFormat(found: 3, supported: SQLiteStore.formatVersion))
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), migrated, "a refused store is not written to")
        XCTAssertEqual(try files(), ["state.db"])
        let queue = try DatabaseQueue(path: path)
        let lease = try await queue.read { db in try Int.fetchOne(db, sql: "SELECT lease FROM log") }
        XCTAssertEqual(lease, 7)
        try queue.close()
    }

    func testAMissingStepLeavesTheStoreAsItWas() async throws {
        try await makeStore()
        let steps: [Int: StoreMigrations.Step] = [1: { db in try db.execute(sql: "ALTER TABLE log ADD COLUMN lease INTEGER") }]
        XCTAssertThrowsError(try SQLiteStore.migrate(path: path, to: 3, steps: steps)) { error in
            XCTAssertEqual(error as? StorageError, .io("no migration from store format 2 to 3"))
        }
        XCTAssertEqual(SQLiteStore.check(path: path), .current)
        let store = try SQLiteStore(path: path)
        let kept = try await store.get("/registry/configmaps/default/kept")
        XCTAssertNotNil(kept)
        await store.close()
        let queue = try DatabaseQueue(path: path)
        let columns = try await queue.read { db in try db.columns(in: "log").map(\.name) }
        XCTAssertFalse(columns.contains("lease"), "the first step was rolled back with the failed migration")
        try queue.close()
    }

    func testMigratingACurrentStoreChangesNothing() async throws {
        try await makeStore()
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        XCTAssertEqual(try SQLiteStore.migrate(path: path), SQLiteStore.formatVersion)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), before)
    }

    func testCheckingNeverWritesTheFile() async throws {
        XCTAssertEqual(SQLiteStore.check(path: path), .absent)
        let garbage = Data((0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
        try garbage.write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(SQLiteStore.check(path: path), .unreadable("is not a cubby store (file is not a database)"))
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), garbage)
        XCTAssertEqual(try files(), ["state.db"])
        XCTAssertThrowsError(try SQLiteStore(path: path)) { error in
            XCTAssertEqual("\(error)", "\(self.path) is not a cubby store (file is not a database)")
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), garbage)

        try FileManager.default.removeItem(atPath: path)
        try await makeStore()
        let store = try Data(contentsOf: URL(fileURLWithPath: path))
        XCTAssertEqual(SQLiteStore.check(path: path), .current)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), store)
        XCTAssertEqual(try files(), ["state.db"], "the read-only look leaves no -wal or -shm behind")
    }
}

/// Which steps ran, in order.
final class Ran: @unchecked Sendable {
    private let lock = NSLock()
    private var order: [Int] = []
    func add(_ step: Int) { lock.withLock { order.append(step) } }
    var steps: [Int] { lock.withLock { order } }
}
