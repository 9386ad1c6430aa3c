import APIMachinery
import XCTest

final class JSONTests: XCTestCase {
    func testRoundTripKeepsValuesAndSortsMembers() throws {
        let text = #"{"b":[1,2.5,-3,true,null,"x\"y\n\u00e9\ud83d\ude00"],"a":{"z":{}, "y":[]},"big":9007199254740993}"#
        let json = try JSON.parse(text)
        XCTAssertEqual(json["big"], .int(9007199254740993))
        XCTAssertEqual(json["b"][5].string, "x\"y\né😀")
        XCTAssertEqual(json.jsonString, #"{"a":{"y":[],"z":{}},"b":[1,2.5,-3,true,null,"x\"y\né😀"],"big":9007199254740993}"#)
        XCTAssertEqual(try JSON.parse(json.jsonString), json)
    }

    func testMalformedInputGivesGoLikeErrors() {
        XCTAssertThrowsError(try JSON.parse("{\"a\":}")) { XCTAssertEqual("\($0)", "invalid character '}' looking for beginning of value") }
        XCTAssertThrowsError(try JSON.parse("{\"a\":1")) { XCTAssertEqual("\($0)", "unexpected end of JSON input") }
        XCTAssertThrowsError(try JSON.parse("[1] x")) { XCTAssertEqual("\($0)", "invalid character 'x' after top-level value") }
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        XCTAssertThrowsError(try JSON.parse(deep))
    }

    func testRepeatedKeysAreNamedByPathAndTheLastValueKept() throws {
        let text = #"{"a":1,"b":[{"c":1,"c":2},{"d":{"e":1,"e":2}}],"a":3}"#
        let parsed = try JSON.parseNamingDuplicates(Array(text.utf8))
        XCTAssertEqual(parsed.json, try JSON.parse(#"{"a":3,"b":[{"c":2},{"d":{"e":2}}]}"#))
        XCTAssertEqual(parsed.duplicates, ["b[0].c", "b[1].d.e", "a"])
        XCTAssertEqual(try JSON.parseNamingDuplicates(Array(#"{"a":{"a":1}}"#.utf8)).duplicates, [])
    }

    func testPathAssignmentCreatesObjects() {
        var j = JSON.emptyObject
        j[path: ["metadata", "labels", "app"]] = "web"
        XCTAssertEqual(j.jsonString, #"{"metadata":{"labels":{"app":"web"}}}"#)
        j["metadata"]["labels"]["app"] = nil
        XCTAssertEqual(j.jsonString, #"{"metadata":{"labels":{}}}"#)
    }
}

final class SelectorTests: XCTestCase {
    func testLabelSelectorOperators() throws {
        let labels = ["app": "web", "tier": "front", "n": "5"]
        let cases: [(String, Bool)] = [
            ("app=web", true), ("app==web", true), ("app!=web", false), ("app in (web,db)", true),
            ("app notin (web)", false), ("tier", true), ("!tier", false), ("missing", false), ("!missing", true),
            ("app=web,tier=back", false), ("n>3", true), ("n<3", false), ("", true),
        ]
        for (text, expected) in cases {
            XCTAssertEqual(try LabelSelector.parse(text).matches(labels), expected, text)
        }
        XCTAssertThrowsError(try LabelSelector.parse("app in web"))
        XCTAssertThrowsError(try LabelSelector.parse("a b"))
    }

    func testStructuredSelector() throws {
        let s = try LabelSelector.fromStructured(["matchLabels": ["app": "web"], "matchExpressions": [["key": "env", "operator": "In", "values": ["prod"]]]])
        XCTAssertTrue(s.matches(["app": "web", "env": "prod"]))
        XCTAssertFalse(s.matches(["app": "web"]))
        XCTAssertEqual(s.description, "app=web,env in (prod)")
    }

    func testFieldSelector() throws {
        let f = try FieldSelector.parse("metadata.name=a,status.phase!=Running")
        XCTAssertTrue(f.matches { ["metadata.name": "a", "status.phase": "Pending"][$0] })
        XCTAssertFalse(f.matches { ["metadata.name": "a", "status.phase": "Running"][$0] })
        XCTAssertThrowsError(try FieldSelector.parse("nonsense"))
    }
}

final class NameValidationTests: XCTestCase {
    func testUpstreamMessages() {
        XCTAssertEqual(NameValidation.dns1123Label("Bad_Name"), ["a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"])
        XCTAssertEqual(NameValidation.dns1123Subdomain("a.b-c"), [])
        XCTAssertEqual(NameValidation.dns1123Subdomain("a..b").count, 1)
        XCTAssertEqual(NameValidation.dns1035Label("1abc").count, 1)
        XCTAssertEqual(NameValidation.qualifiedName("example.com/name"), [])
        XCTAssertEqual(NameValidation.qualifiedName("-bad").count, 1)
        XCTAssertEqual(NameValidation.labelValue(""), [])
        XCTAssertEqual(NameValidation.labelValue(String(repeating: "a", count: 64)), ["must be no more than 63 bytes"])
    }

    func testStatusMessages() {
        let gr = GroupResource(group: "apps", resource: "deployments")
        XCTAssertEqual(StatusError.notFound(gr, "web").message, "deployments.apps \"web\" not found")
        XCTAssertEqual(StatusError.staleResourceVersion(GroupResource(group: "", resource: "configmaps"), "x").message,
                       "Operation cannot be fulfilled on configmaps \"x\": the object has been modified; please apply your changes to the latest version and try again")
        let invalid = StatusError.invalid(kind: "Pod", group: "", name: "p", [.required("spec.containers[0].image"), .invalid("metadata.name", "P", "bad")])
        XCTAssertEqual(invalid.message, "Pod \"p\" is invalid: [spec.containers[0].image: Required value, metadata.name: Invalid value: \"P\": bad]")
        XCTAssertEqual(invalid.status["details"]["causes"][0]["reason"], "FieldValueRequired")
    }

    func testHumanDuration() {
        XCTAssertEqual(APITime.humanDuration(5), "5s")
        XCTAssertEqual(APITime.humanDuration(150), "2m30s")
        XCTAssertEqual(APITime.humanDuration(3600 * 3 + 60 * 5), "3h5m")
        XCTAssertEqual(APITime.humanDuration(86400 * 3 + 3600), "3d1h")
        XCTAssertEqual(APITime.parse("2024-01-02T03:04:05Z").map(APITime.format), "2024-01-02T03:04:05Z")
    }
}

final class PatchTests: XCTestCase {
    func testMergePatchNullsRemove() {
        let target: JSON = ["a": 1, "b": ["c": 2, "d": 3], "l": [1, 2]]
        let patched = MergePatch.apply(["b": ["c": nil, "e": 4], "l": [3], "a": nil], to: target)
        XCTAssertEqual(patched, ["b": ["d": 3, "e": 4], "l": [3]])
    }

    func testJSONPatchOperationsAndFailedTest() throws {
        let doc: JSON = ["spec": ["replicas": 1, "list": ["a", "b"]]]
        let patched = try JSONPatch.apply([
            ["op": "test", "path": "/spec/replicas", "value": 1],
            ["op": "replace", "path": "/spec/replicas", "value": 3],
            ["op": "add", "path": "/spec/list/-", "value": "c"],
            ["op": "remove", "path": "/spec/list/0"],
            ["op": "copy", "from": "/spec/replicas", "path": "/spec/copy"],
        ], to: doc)
        XCTAssertEqual(patched, ["spec": ["replicas": 3, "list": ["b", "c"], "copy": 3]])
        XCTAssertThrowsError(try JSONPatch.apply([["op": "test", "path": "/spec/replicas", "value": 2]], to: doc)) {
            XCTAssertEqual(($0 as? StatusError)?.code, 422)
        }
    }

    func testStrategicMergeByKeyAndDirectives() throws {
        let defs: [String: JSON] = [
            "Pod": ["properties": ["spec": ["$ref": "PodSpec"]]],
            "PodSpec": ["properties": ["containers": ["type": "array", "items": ["$ref": "Container"],
                                                      "x-kubernetes-patch-merge-key": "name", "x-kubernetes-patch-strategy": "merge"]]],
            "Container": ["properties": ["env": ["type": "array", "x-kubernetes-patch-merge-key": "name", "x-kubernetes-patch-strategy": "merge"]]],
        ]
        let smp = StrategicMergePatch(definitions: defs)
        let pod: JSON = ["spec": ["containers": [["name": "a", "image": "a:1"], ["name": "b", "image": "b:1", "env": [["name": "X", "value": "1"]]]]]]
        let patched = try smp.apply(["spec": ["containers": [["name": "b", "image": "b:2", "env": [["name": "Y", "value": "2"]]], ["name": "c", "image": "c:1"]]]], to: pod, schemaName: "Pod")
        XCTAssertEqual(patched["spec"]["containers"], [
            ["name": "a", "image": "a:1"],
            ["name": "b", "image": "b:2", "env": [["name": "X", "value": "1"], ["name": "Y", "value": "2"]]],
            ["name": "c", "image": "c:1"],
        ])
        let deleted = try smp.apply(["spec": ["containers": [["name": "a", "$patch": "delete"]]]], to: pod, schemaName: "Pod")
        XCTAssertEqual(deleted["spec"]["containers"].array?.count, 1)
        let ordered = try smp.apply(["spec": ["$setElementOrder/containers": [["name": "b"], ["name": "a"]]]], to: pod, schemaName: "Pod")
        XCTAssertEqual(ordered["spec"]["containers"][0]["name"], "b")
    }
}
