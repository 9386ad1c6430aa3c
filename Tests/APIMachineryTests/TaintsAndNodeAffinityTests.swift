import APIMachinery
import XCTest

final class TaintsAndNodeAffinityTests: XCTestCase {
    func testTolerationsMatchTaintsAsUpstreamDoes() {
        let taint: JSON = ["key": "dedicated", "value": "gpu", "effect": "NoSchedule"]
        XCTAssertTrue(Taints.tolerates(["key": "dedicated", "value": "gpu", "effect": "NoSchedule"], taint))
        XCTAssertTrue(Taints.tolerates(["key": "dedicated", "operator": "Exists"], taint), "an empty effect matches every effect")
        XCTAssertTrue(Taints.tolerates(["operator": "Exists"], taint), "an empty key with Exists matches every taint")
        XCTAssertFalse(Taints.tolerates(["key": "dedicated", "value": "cpu"], taint), "Equal compares values")
        XCTAssertFalse(Taints.tolerates(["key": "dedicated", "operator": "Exists", "effect": "NoExecute"], taint))
        XCTAssertFalse(Taints.tolerates([:], taint), "an empty key without Exists matches nothing")
        XCTAssertTrue(Taints.podTolerates(["spec": ["tolerations": [["key": "other", "operator": "Exists"], ["key": "dedicated", "value": "gpu"]]]], taint))
    }

    func testNodeSelectorAndRequiredAffinity() {
        let node: JSON = ["metadata": ["name": "n1", "labels": ["zone": "a", "cores": "8"]]]
        XCTAssertTrue(NodeAffinity.matches(["spec": [:]], node))
        XCTAssertTrue(NodeAffinity.matches(["spec": ["nodeSelector": ["zone": "a"]]], node))
        XCTAssertFalse(NodeAffinity.matches(["spec": ["nodeSelector": ["zone": "b"]]], node))
        func required(_ terms: JSON) -> JSON {
            ["spec": ["affinity": ["nodeAffinity": ["requiredDuringSchedulingIgnoredDuringExecution": ["nodeSelectorTerms": terms]]]]]
        }
        // Terms are ORed, expressions within a term ANDed; Gt compares integers; matchFields reads the name.
        XCTAssertTrue(NodeAffinity.matches(required([["matchExpressions": [["key": "zone", "operator": "In", "values": ["b"]]]],
                                                     ["matchExpressions": [["key": "cores", "operator": "Gt", "values": ["4"]],
                                                                           ["key": "gpu", "operator": "DoesNotExist"]]]]), node))
        XCTAssertFalse(NodeAffinity.matches(required([["matchExpressions": [["key": "cores", "operator": "Lt", "values": ["4"]]]]]), node))
        XCTAssertTrue(NodeAffinity.matches(required([["matchFields": [["key": "metadata.name", "operator": "In", "values": ["n1"]]]]]), node))
        XCTAssertFalse(NodeAffinity.matches(required([[:]]), node), "an empty term matches nothing")
    }
}
