import Foundation
import GRDB
import Storage
import XCTest

/// The format check a start makes before anything is written, the step-by-step migration of an
/// older store (with steps of the test's own), and the real steps.
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

    /// Format 1 kept built-in objects under group-qualified keys; format 2 under upstream's.
    func testFormat1KeysMoveToUpstreamsLayout() async throws {
        let store = try SQLiteStore(path: path)
        for key in ["/registry/apps/deployments/default/web", "/registry/core/services/default/kubernetes",
                    "/registry/core/nodes/cubby", "/registry/apiextensions.k8s.io/customresourcedefinitions/gizmos.example.com",
                    "/registry/example.com/gizmos/default/g1"] {
            _ = try await store.create(key, encode: value(key))
        }
        await store.close()
        let queue = try DatabaseQueue(path: path)
        try await queue.write { db in try db.execute(sql: "UPDATE meta SET value = 1 WHERE name = 'format_version'") }
        try queue.close()

        XCTAssertEqual(try SQLiteStore.migrate(path: path), 1)
        let migrated = try SQLiteStore(path: path)
        let keys = try await migrated.list(prefix: "/registry/", startAfter: nil, limit: nil, at: nil).objects.map(\.key)
        XCTAssertEqual(keys, ["/registry/apiextensions.k8s.io/customresourcedefinitions/gizmos.example.com",
                              "/registry/deployments/default/web", "/registry/example.com/gizmos/default/g1",
                              "/registry/minions/cubby", "/registry/services/specs/default/kubernetes"])
        // The history moved with them: the objects keep their revisions.
        let web = try await migrated.get("/registry/deployments/default/web")
        XCTAssertEqual(web?.revision, 1)
        await migrated.close()
    }

    func files() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() }

    func testOlderStoreIsMigratedOneStepAtATime() async throws {
        // Two formats beyond this binary's, with steps of the test's own.
        let f = SQLiteStore.formatVersion
        try await makeStore()
        XCTAssertEqual(SQLiteStore.check(path: path), .current)
        XCTAssertEqual(SQLiteStore.check(path: path, supported: f + 2), .older(f))
        let ran = Ran()
        let steps: [Int: StoreMigrations.Step] = [
            f: { db in ran.add(f); try db.execute(sql: "ALTER TABLE log ADD COLUMN lease INTEGER NOT NULL DEFAULT 0") },
            f + 1: { db in ran.add(f + 1); try db.execute(sql: "UPDATE log SET lease = 7") },
        ]
        XCTAssertEqual(try SQLiteStore.migrate(path: path, to: f + 2, steps: steps), f)
        XCTAssertEqual(ran.steps, [f, f + 1])
        XCTAssertEqual(SQLiteStore.check(path: path, supported: f + 2), .current)
        // This binary reads up to format f, so the migrated store is now a newer one to it.
        XCTAssertEqual(SQLiteStore.check(path: path), .newer(f + 2))
        let migrated = try Data(contentsOf: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try SQLiteStore(path: path)) { error in
            XCTAssertEqual(error as? StorageError, .unsupportedFormat(found: f + 2, supported: f))
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
        let f = SQLiteStore.formatVersion
        let steps: [Int: StoreMigrations.Step] = [f: { db in try db.execute(sql: "ALTER TABLE log ADD COLUMN lease INTEGER") }]
        XCTAssertThrowsError(try SQLiteStore.migrate(path: path, to: f + 2, steps: steps)) { error in
            XCTAssertEqual(error as? StorageError, .io("no migration from store format \(f + 1) to \(f + 2)"))
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
