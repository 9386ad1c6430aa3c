import APIMachinery
import XCTest

/// The cases upstream documents for each patch engine.
final class PatchEngineTests: XCTestCase {
    /// RFC 7386, Appendix A, every example.
    func testMergePatchRFC7386Examples() throws {
        let cases: [(String, String, String)] = [
            (#"{"a":"b"}"#, #"{"a":"c"}"#, #"{"a":"c"}"#),
            (#"{"a":"b"}"#, #"{"b":"c"}"#, #"{"a":"b","b":"c"}"#),
            (#"{"a":"b"}"#, #"{"a":null}"#, #"{}"#),
            (#"{"a":"b","b":"c"}"#, #"{"a":null}"#, #"{"b":"c"}"#),
            (#"{"a":["b"]}"#, #"{"a":"c"}"#, #"{"a":"c"}"#),
            (#"{"a":"c"}"#, #"{"a":["b"]}"#, #"{"a":["b"]}"#),
            (#"{"a":{"b":"c"}}"#, #"{"a":{"b":"d","c":null}}"#, #"{"a":{"b":"d"}}"#),
            (#"{"a":[{"b":"c"}]}"#, #"{"a":[1]}"#, #"{"a":[1]}"#),
            (#"["a","b"]"#, #"["c","d"]"#, #"["c","d"]"#),
            (#"{"a":"b"}"#, #"["c"]"#, #"["c"]"#),
            (#"{"a":"foo"}"#, #"null"#, #"null"#),
            (#"{"a":"foo"}"#, #""bar""#, #""bar""#),
            (#"{"e":null}"#, #"{"a":1}"#, #"{"e":null,"a":1}"#),
            (#"[1,2]"#, #"{"a":"b","c":null}"#, #"{"a":"b"}"#),
            (#"{}"#, #"{"a":{"bb":{"ccc":null}}}"#, #"{"a":{"bb":{}}}"#),
        ]
        for (target, patch, result) in cases {
            XCTAssertEqual(MergePatch.apply(try JSON.parse(patch), to: try JSON.parse(target)), try JSON.parse(result), "\(target) + \(patch)")
        }
    }

    /// RFC 6902: a failed test stops the whole patch, answered 422; a bad path is an error too.
    func testJSONPatchFailuresChangeNothing() throws {
        let doc = try JSON.parse(#"{"spec":{"replicas":1,"list":["a"]}}"#)
        for bad in [#"[{"op":"replace","path":"/spec/replicas","value":2},{"op":"test","path":"/spec/replicas","value":1}]"#,
                    #"[{"op":"remove","path":"/spec/missing"}]"#,
                    #"[{"op":"add","path":"/spec/list/5","value":"x"}]"#,
                    #"[{"op":"jump","path":"/spec"}]"#] {
            XCTAssertThrowsError(try JSONPatch.apply(try JSON.parse(bad), to: doc), bad)
        }
        XCTAssertThrowsError(try JSONPatch.apply(try JSON.parse(#"[{"op":"test","path":"/spec/list","value":["b"]}]"#), to: doc)) {
            XCTAssertEqual(($0 as? StatusError)?.code, 422)
        }
        let moved = try JSONPatch.apply(try JSON.parse(#"[{"op":"move","from":"/spec/list","path":"/items"}]"#), to: doc)
        XCTAssertEqual(moved, try JSON.parse(#"{"spec":{"replicas":1},"items":["a"]}"#))
    }

    let podDefinitions: [String: JSON] = [
        "Pod": ["properties": ["metadata": ["$ref": "Meta"], "spec": ["$ref": "PodSpec"]]],
        "Meta": ["properties": ["finalizers": ["type": "array", "x-kubernetes-patch-strategy": "merge"]]],
        "PodSpec": ["properties": [
            "containers": ["type": "array", "items": ["$ref": "Container"], "x-kubernetes-patch-merge-key": "name", "x-kubernetes-patch-strategy": "merge"],
            "volumes": ["type": "array", "x-kubernetes-patch-merge-key": "name", "x-kubernetes-patch-strategy": "merge,retainKeys"],
        ]],
        "Container": ["properties": ["ports": ["type": "array", "x-kubernetes-patch-merge-key": "containerPort", "x-kubernetes-patch-strategy": "merge"]]],
    ]

    func testStrategicMergeDirectives() throws {
        let smp = StrategicMergePatch(definitions: podDefinitions)
        let pod = try JSON.parse("""
            {"metadata":{"finalizers":["a","b"]},
             "spec":{"containers":[{"name":"x","image":"x:1","ports":[{"containerPort":80},{"containerPort":81}]},{"name":"y","image":"y:1"}],
                     "volumes":[{"name":"v","hostPath":{"path":"/tmp"}}]}}
            """)
        func apply(_ patch: String) throws -> JSON { try smp.apply(try JSON.parse(patch), to: pod, schemaName: "Pod") }

        // Primitive lists with the merge strategy take the union; $deleteFromPrimitiveList removes.
        XCTAssertEqual(try apply(#"{"metadata":{"finalizers":["c"]}}"#)["metadata"]["finalizers"], ["a", "b", "c"])
        XCTAssertEqual(try apply(#"{"metadata":{"$deleteFromPrimitiveList/finalizers":["a"]}}"#)["metadata"]["finalizers"], ["b"])
        // $patch: replace on a list replaces it whole; on an item's map, that map.
        XCTAssertEqual(try apply(#"{"spec":{"containers":[{"name":"z","image":"z:1"},{"$patch":"replace"}]}}"#)["spec"]["containers"],
                       [["name": "z", "image": "z:1"]])
        // Nested keyed lists merge by their own key; null deletes a field.
        let nested = try apply(#"{"spec":{"containers":[{"name":"x","image":null,"ports":[{"containerPort":81,"name":"alt"}]}]}}"#)
        XCTAssertEqual(nested["spec"]["containers"][0], ["name": "x", "ports": [["containerPort": 80], ["containerPort": 81, "name": "alt"]]])
        // $retainKeys drops the keys the patch does not keep: switching a volume's source.
        let switched = try apply(#"{"spec":{"volumes":[{"name":"v","emptyDir":{},"$retainKeys":["emptyDir","name"]}]}}"#)
        XCTAssertEqual(switched["spec"]["volumes"], [["name": "v", "emptyDir": .emptyObject]])
        // $setElementOrder orders the merged list.
        let ordered = try apply(#"{"spec":{"$setElementOrder/containers":[{"name":"y"},{"name":"x"}],"containers":[{"name":"y","image":"y:2"}]}}"#)
        XCTAssertEqual(ordered["spec"]["containers"].array?.compactMap { $0["name"].string }, ["y", "x"])
        XCTAssertEqual(ordered["spec"]["containers"][0]["image"], "y:2")
    }
}
