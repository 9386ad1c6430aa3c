import APIMachinery
import Foundation
import Registry
import Resources
import Storage
import XCTest

final class GenerateNameTests: XCTestCase {
    /// Five random characters give 27^5 ≈ 14.3 million names: among 20,000 objects with one
    /// generateName about fourteen collide (the odds of none are about one in a million), as a
    /// ReplicaSet's pods would. Every create must still succeed, with a name of its own.
    func testGeneratedNamesThatCollideAreGeneratedAgain() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("generate-name-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try SQLiteStore(path: dir.appendingPathComponent("state.db").path)
        let registry = Registry(store: store, catalog: ResourceCatalog(builtin: BuiltinResources.all, schemas: BuiltinResources.schemas))
        let namespaces = try XCTUnwrap(registry.catalog.lookup(group: "", version: "v1", plural: "namespaces"))
        let configMaps = try XCTUnwrap(registry.catalog.lookup(group: "", version: "v1", plural: "configmaps"))
        _ = try await registry.create(namespaces, namespace: nil, body: ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "default"]])
        var names = Set<String>()
        for _ in 0..<20_000 {
            let made = try await registry.create(configMaps, namespace: "default", body: [
                "apiVersion": "v1", "kind": "ConfigMap", "metadata": ["generateName": "web-7d4b9c6f5d-"]])
            let name = try XCTUnwrap(made["metadata"]["name"].string)
            XCTAssertTrue(name.hasPrefix("web-7d4b9c6f5d-") && name.count == 20, name)
            names.insert(name)
        }
        XCTAssertEqual(names.count, 20_000)
    }
}
