import APIMachinery
import Foundation
import Registry
import Resources
import Storage
import XCTest

final class StoredVersionTests: XCTestCase {
    /// One object, two groups: what events.k8s.io/v1 writes, core/v1 reads under core's field
    /// names, and a list through either group converts every item.
    func testEventsAreOneObjectThroughBothGroups() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("stored-version-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let registry = Registry(store: try SQLiteStore(path: dir.appendingPathComponent("state.db").path),
                                catalog: ResourceCatalog(builtin: BuiltinResources.all, schemas: BuiltinResources.schemas))
        let core = try XCTUnwrap(registry.catalog.lookup(group: "", version: "v1", plural: "events"))
        let eventsV1 = try XCTUnwrap(registry.catalog.lookup(group: "events.k8s.io", version: "v1", plural: "events"))
        let written: JSON = [
            "apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": ["name": "e"], "eventTime": "2026-12-01T10:00:00.000000Z",
            "reportingController": "example.com/op", "reportingInstance": "op-0", "action": "Sync", "reason": "Synced",
            "note": "done", "type": "Normal", "regarding": ["kind": "Node", "name": "n1"],
        ]
        let created = try await registry.create(eventsV1, namespace: "default", body: written)
        XCTAssertEqual(created["note"], "done")

        let legacy = try await registry.get(core, namespace: "default", name: "e")
        XCTAssertEqual(legacy["apiVersion"], "v1")
        XCTAssertEqual(legacy["message"], "done")
        XCTAssertEqual(legacy["involvedObject"]["name"], "n1")
        XCTAssertEqual(legacy["reportingComponent"], "example.com/op")
        XCTAssertTrue(legacy["note"].isNull && legacy["regarding"].isNull)

        let listed = try await registry.list(eventsV1, namespace: "default", options: ListOptions())
        XCTAssertEqual(try listed.items.map { try JSON.parse($0)["note"] }, ["done"])
        let again = try await registry.get(eventsV1, namespace: "default", name: "e")
        XCTAssertEqual(Events.fromCore(legacy), again)
    }
}
