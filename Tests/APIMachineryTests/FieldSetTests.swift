import APIMachinery
import XCTest

final class FieldSetTests: XCTestCase {
    let definitions: [String: JSON] = [
        "Pod": ["type": "object", "properties": [
            "metadata": ["type": "object", "properties": ["labels": ["type": "object", "additionalProperties": ["type": "string"]]]],
            "spec": ["type": "object", "properties": [
                "containers": ["type": "array", "x-kubernetes-patch-merge-key": "name", "items": ["$ref": "Container"]],
                "finalizers": ["type": "array", "x-kubernetes-list-type": "set", "items": ["type": "string"]],
                "selector": ["type": "object", "x-kubernetes-map-type": "atomic"],
            ]],
        ]],
        "Container": ["type": "object", "properties": [
            "ports": ["type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["containerPort", "protocol"],
                      "items": ["type": "object"]],
            "command": ["type": "array", "items": ["type": "string"]],
        ]],
    ]

    func testMembersFollowTheSchema() throws {
        let pod = try JSON.parse("""
            {"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"c","command":["a","b"],"resources":{},
             "ports":[{"containerPort":80,"protocol":"TCP"}]}],"finalizers":["x"],"selector":{"matchLabels":{"a":"b"}}}}
            """)
        let set = TypedFields(definitions: definitions).fieldSet(of: pod, schemaName: "Pod")
        XCTAssertEqual(set.fieldsV1, try JSON.parse("""
            {"f:metadata":{"f:labels":{".":{},"f:app":{}}},
             "f:spec":{"f:containers":{"k:{\\"name\\":\\"c\\"}":{".":{},"f:command":{},"f:name":{},"f:resources":{},
                         "f:ports":{"k:{\\"containerPort\\":80,\\"protocol\\":\\"TCP\\"}":{".":{},"f:containerPort":{},"f:protocol":{}}}}},
                       "f:finalizers":{"v:\\"x\\"":{}},"f:selector":{}}}
            """))
        XCTAssertEqual(try FieldSet(fieldsV1: set.fieldsV1), set, "FieldsV1 round-trips")
    }

    /// The Apply entry of the server-side apply documentation's ConfigMap example: the labels and
    /// data maps hold their entries, not themselves (no "."), as structured-merge-diff sets them.
    func testApplySetsHoldLeavesAndMapEntriesAsUpstreamDocumentsThem() throws {
        let schemas: [String: JSON] = [
            "ConfigMap": ["type": "object", "properties": [
                "metadata": ["type": "object", "properties": [
                    "name": ["type": "string"], "labels": ["type": "object", "additionalProperties": ["type": "string"]]]],
                "data": ["type": "object", "additionalProperties": ["type": "string"]],
            ]],
        ]
        let typed = TypedFields(definitions: schemas)
        let applied = try JSON.parse(#"{"metadata":{"name":"test-cm","labels":{"test-label":"test"}},"data":{"key":"some value"}}"#)
        XCTAssertEqual(FieldSet(paths: typed.members(of: applied, schemaName: "ConfigMap", for: .apply).keys).fieldsV1, try JSON.parse("""
            {"f:metadata":{"f:name":{},"f:labels":{"f:test-label":{}}},"f:data":{"f:key":{}}}
            """))
        // An Update records the maps it made; an applied empty map is owned as a value.
        XCTAssertEqual(typed.fieldSet(of: applied, schemaName: "ConfigMap").fieldsV1["f:data"], try JSON.parse(#"{".":{},"f:key":{}}"#))
        XCTAssertEqual(FieldSet(paths: typed.members(of: ["data": .emptyObject], schemaName: "ConfigMap", for: .apply).keys).fieldsV1,
                       try JSON.parse(#"{"f:data":{}}"#))
    }

    /// A list-map key field an item leaves out takes its schema default, so an applied port
    /// without a protocol is the live TCP port, merged into it rather than added beside it.
    func testListMapKeysTakeTheirDefaults() throws {
        var schemas = definitions
        schemas["Container"]?["properties"]["ports"]["items"] = ["type": "object", "properties": [
            "containerPort": ["type": "integer"], "protocol": ["type": "string", "default": "TCP"], "name": ["type": "string"]]]
        let typed = TypedFields(definitions: schemas)
        let live = try JSON.parse(#"{"spec":{"containers":[{"name":"c","ports":[{"containerPort":80,"protocol":"TCP"},{"containerPort":53,"protocol":"UDP"}]}]}}"#)
        let applied = try JSON.parse(#"{"spec":{"containers":[{"name":"c","ports":[{"containerPort":80,"name":"http"},{"containerPort":53}]}]}}"#)
        let merged = StructuredMerge(typed: typed).merge(applied, into: live, schemaName: "Pod")
        XCTAssertEqual(merged["spec"]["containers"][0]["ports"], try JSON.parse("""
            [{"containerPort":80,"protocol":"TCP","name":"http"},{"containerPort":53,"protocol":"UDP"},{"containerPort":53}]
            """))
        let paths = typed.members(of: applied, schemaName: "Pod", for: .apply).keys
        XCTAssertTrue(paths.contains(["f:spec", "f:containers", #"k:{"name":"c"}"#, "f:ports", #"k:{"containerPort":80,"protocol":"TCP"}"#, "f:name"]))
        XCTAssertTrue(paths.contains(["f:spec", "f:containers", #"k:{"name":"c"}"#, "f:ports", #"k:{"containerPort":53,"protocol":"TCP"}"#]))
    }

    func testSetOperations() throws {
        let a = FieldSet(paths: [["f:spec", "f:replicas"], ["f:spec", "f:template"], ["f:metadata", "f:labels"]])
        let b = FieldSet(paths: [["f:spec", "f:replicas"], ["f:data"]])
        XCTAssertEqual(a.subtracting(b).paths, [["f:metadata", "f:labels"], ["f:spec", "f:template"]])
        XCTAssertEqual(a.intersection(b).paths, [["f:spec", "f:replicas"]])
        XCTAssertEqual(a.union(b).paths.count, 4)
        XCTAssertTrue(a.subtracting(a).isEmpty)
        XCTAssertThrowsError(try FieldSet(fieldsV1: ["x:bad": .emptyObject]))
        XCTAssertThrowsError(try FieldSet(fieldsV1: "f:spec"))
    }

    func testApplyMergesByKeyAndRemovesByPath() throws {
        let merge = StructuredMerge(typed: TypedFields(definitions: definitions))
        let live = try JSON.parse("""
            {"spec":{"containers":[{"name":"a","command":["x"],"resources":{}},{"name":"b"}],"finalizers":["p"]}}
            """)
        let applied = try JSON.parse("""
            {"spec":{"containers":[{"name":"b","command":["y"]},{"name":"c"}],"finalizers":["q","p"]}}
            """)
        var merged = merge.merge(applied, into: live, schemaName: "Pod")
        XCTAssertEqual(merged, try JSON.parse("""
            {"spec":{"containers":[{"name":"a","command":["x"],"resources":{}},{"name":"b","command":["y"]},{"name":"c"}],"finalizers":["p","q"]}}
            """))
        StructuredMerge.remove(FieldSet(paths: [
            ["f:spec", "f:containers", #"k:{"name":"a"}"#, "f:resources"],
            ["f:spec", "f:containers", #"k:{"name":"c"}"#],
            ["f:spec", "f:finalizers", #"v:"p""#],
            ["f:spec", "f:missing", "f:x"],
        ]), from: &merged)
        XCTAssertEqual(merged, try JSON.parse("""
            {"spec":{"containers":[{"name":"a","command":["x"]},{"name":"b","command":["y"]}],"finalizers":["q"]}}
            """))
        XCTAssertEqual(StructuredMerge.describe(["f:spec", "f:containers", #"k:{"name":"a"}"#, "f:image"]), #".spec.containers[name="a"].image"#)
    }
}
