import APIMachinery
import Foundation
import Testing
@testable import Nodes
@testable import Proxy

@Suite struct ProxyRulesetTests {
    let configuration = ProxyRuleset.Configuration(podCIDR: "10.244.0.0/16", serviceCIDR: "10.96.0.0/12", nodeAddresses: ["10.244.0.1", "127.0.0.1"], masqueradePodTraffic: false)

    func service(_ name: String, type: String = "ClusterIP", clusterIP: String = "10.96.0.20", ports: JSON = [["name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP", "nodePort": 30080]],
                 extra: JSON = [:]) -> JSON {
        var spec: JSON = ["type": .string(type), "clusterIP": .string(clusterIP), "clusterIPs": [.string(clusterIP)], "ports": ports]
        for (k, v) in extra.object ?? [:] { spec[k] = v }
        return ["metadata": ["name": .string(name), "namespace": "default"], "spec": spec]
    }

    func slice(_ endpoints: [(String, Bool)], node: String = "n1", port: Int = 8080) -> JSON {
        ["addressType": "IPv4", "ports": [["name": "http", "port": .int(Int64(port)), "protocol": "TCP"]],
         "endpoints": .array(endpoints.map { ["addresses": [.string($0.0)], "conditions": ["ready": .bool($0.1), "serving": .bool($0.1), "terminating": false],
                                              "nodeName": .string(node)] })]
    }

    @Test func readyEndpointsAreBalancedAndUnreadyOnesLeftOut() {
        let ports = ServicePort.of(service("web"), slices: [slice([("10.244.0.5", true), ("10.244.0.6", true), ("10.244.0.7", false)])], nodeName: "n1")
        #expect(ports.map(\.endpoints.count) == [2])
        let rules = ProxyRuleset(ports, configuration: configuration)
        let chain = rules.serviceIPs["10.96.0.20 . tcp . 80"]
        #expect(chain?.hasPrefix("goto service-") == true)
        let serviceRules = rules.chains[String(chain!.dropFirst(5))]!
        #expect(serviceRules == ["ip daddr 10.96.0.20 ip saddr != 10.244.0.0/16 jump mark-for-masquerade",
                                 "ip saddr { 10.244.0.5, 10.244.0.6 } jump mark-for-masquerade",
                                 "meta l4proto tcp dnat ip addr . port to numgen random mod 2 map { 0 : 10.244.0.5 . 8080, 1 : 10.244.0.6 . 8080 }"])
        #expect(!rules.chains.values.contains { $0.contains { $0.contains("10.244.0.7") } })
        #expect(rules.noEndpointServices.isEmpty)
    }

    @Test func aServiceWithoutEndpointsIsRefusedAndHeadlessOnesHaveNoRules() {
        let none = ProxyRuleset(ServicePort.of(service("web", type: "NodePort"), slices: [], nodeName: "n1"), configuration: configuration)
        #expect(none.noEndpointServices == ["10.96.0.20 . tcp . 80": "goto reject-chain"])
        #expect(none.noEndpointNodePorts == ["tcp . 30080": "goto reject-chain"])
        #expect(none.serviceIPs.isEmpty && none.chains.isEmpty)
        #expect(ServicePort.of(service("h", clusterIP: "None"), slices: [slice([("10.244.0.5", true)])], nodeName: "n1").isEmpty)
        #expect(ServicePort.of(service("x", type: "ExternalName", clusterIP: ""), slices: [], nodeName: "n1").isEmpty)
    }

    @Test func namedTargetPortsComeFromTheSlice() {
        let ports: JSON = [["name": "http", "port": 80, "targetPort": "web", "protocol": "TCP"], ["name": "dns", "port": 53, "targetPort": 5353, "protocol": "UDP"]]
        var s = slice([("10.244.0.5", true)], port: 9090)
        s["ports"] = [["name": "http", "port": 9090, "protocol": "TCP"], ["name": "dns", "port": 5353, "protocol": "UDP"]]
        let rules = ProxyRuleset(ServicePort.of(service("web", ports: ports), slices: [s], nodeName: "n1"), configuration: configuration)
        #expect(Set(rules.serviceIPs.keys) == ["10.96.0.20 . tcp . 80", "10.96.0.20 . udp . 53"])
        #expect(rules.chains.values.contains { $0.contains("meta l4proto udp dnat to 10.244.0.5:5353") })
        #expect(rules.chains.values.contains { $0.contains("meta l4proto tcp dnat to 10.244.0.5:9090") })
        #expect(rules.chains.count == 2)
    }

    @Test func sessionAffinityAndLocalPolicies() {
        let sticky = ProxyRuleset(ServicePort.of(service("web", extra: ["sessionAffinity": "ClientIP", "sessionAffinityConfig": ["clientIP": ["timeoutSeconds": 60]]]),
                                                 slices: [slice([("10.244.0.5", true), ("10.244.0.6", true)])], nodeName: "n1"), configuration: configuration)
        #expect(sticky.affinitySets.count == 2 && sticky.affinitySets.values.allSatisfy { $0 == 60 })
        #expect(sticky.chains.values.contains { $0.contains { $0.hasPrefix("update @affinity-") } })
        #expect(sticky.chains.values.contains { $0.contains("meta l4proto tcp dnat to 10.244.0.6:8080") })

        // Endpoints on another node: Local internal traffic has nowhere to go and is dropped.
        let local = ProxyRuleset(ServicePort.of(service("web", extra: ["internalTrafficPolicy": "Local"]),
                                                slices: [slice([("10.244.1.5", true)], node: "n2")], nodeName: "n1"), configuration: configuration)
        #expect(local.noEndpointServices == ["10.96.0.20 . tcp . 80": "drop"])
    }

    @Test func partialSyncRewritesOnlyWhatChanged() throws {
        let one = ProxyRuleset(ServicePort.of(service("web"), slices: [slice([("10.244.0.5", true)])], nodeName: "n1"), configuration: configuration)
        let two = ProxyRuleset(ServicePort.of(service("web"), slices: [slice([("10.244.0.5", true), ("10.244.0.6", true)])], nodeName: "n1"),
                               configuration: configuration)
        let script = NFTablesScript(table: "cubby-test", configuration: configuration)
        #expect(script.partial(from: one, to: one) == "")
        let change = try #require(script.partial(from: one, to: two))
        #expect(change.contains("flush chain ip cubby-test service-") && change.contains("10.244.0.6 . 8080"))
        #expect(!change.contains("add map") && !change.contains("nat-prerouting") && !change.contains("element"))
        let none = ProxyRuleset(ServicePort.of(service("web"), slices: [], nodeName: "n1"), configuration: configuration)
        let gone = try #require(script.partial(from: two, to: none))
        #expect(gone.contains("delete chain ip cubby-test service-") && gone.contains("add element ip cubby-test no-endpoint-services"))
    }

    /// The rendered script is what nft accepts (checked, not applied), where nft and root exist.
    @Test func nftAcceptsTheScript() async throws {
        guard HostCommand.find("nft") != nil, geteuid() == 0 else { return }
        let ports = ServicePort.of(service("web", type: "NodePort", extra: ["sessionAffinity": "ClientIP", "externalTrafficPolicy": "Local"]),
                                   slices: [slice([("10.244.0.5", true), ("10.244.0.6", true)])], nodeName: "n1")
            + ServicePort.of(service("empty", clusterIP: "10.96.0.21"), slices: [], nodeName: "n1")
        let script = NFTablesScript(table: "cubby-unit-test", configuration: configuration)
        try await HostCommand.run(HostCommand.find("nft")!, ["-c", "-f", "-"],
                                  input: script.full(ProxyRuleset(ports, configuration: configuration), previous: nil, fresh: false))
    }
}
