/// Renders a ProxyRuleset as an `nft -f` script for the cluster's own table (`ip cubby-NAME`):
/// the whole table on a full sync, or only what differs from the last one applied. nft applies a
/// script as one transaction, so the kernel never holds half a sync.
public struct NFTablesScript: Sendable {
    let table: String
    let configuration: ProxyRuleset.Configuration

    public init(table: String, configuration: ProxyRuleset.Configuration) {
        self.table = table
        self.configuration = configuration
    }

    var family: String { "ip \(table)" }

    /// The fixed part: hooks, maps and the chains they lead to. Written on every full sync; `add`
    /// leaves what exists, so the dynamic affinity sets keep their clients.
    var skeleton: [String] {
        let nodeAddresses = configuration.nodeAddresses.joined(separator: ", ")
        let bit = ProxyRuleset.masqueradeBit
        return [
            "add table \(family) { comment \"Cubby's service proxy (kube-proxy); removed by cubby stop\" ; }",
            "add map \(family) service-ips { type ipv4_addr . inet_proto . inet_service : verdict ; }",
            "add map \(family) service-nodeports { type inet_proto . inet_service : verdict ; }",
            "add map \(family) no-endpoint-services { type ipv4_addr . inet_proto . inet_service : verdict ; }",
            "add map \(family) no-endpoint-nodeports { type inet_proto . inet_service : verdict ; }",
            "add chain \(family) nat-prerouting { type nat hook prerouting priority dstnat ; policy accept ; }",
            "add chain \(family) nat-output { type nat hook output priority -100 ; policy accept ; }",
            "add chain \(family) nat-postrouting { type nat hook postrouting priority srcnat ; policy accept ; }",
            "add chain \(family) filter-input { type filter hook input priority filter ; policy accept ; }",
            "add chain \(family) filter-forward { type filter hook forward priority filter ; policy accept ; }",
            "add chain \(family) filter-output { type filter hook output priority filter ; policy accept ; }",
            "add chain \(family) services",
            "add chain \(family) endpoints-check",
            "add chain \(family) mark-for-masquerade",
            "add chain \(family) masquerading",
            "add chain \(family) \(ProxyRuleset.rejectChain)",
            "flush chain \(family) nat-prerouting",
            "flush chain \(family) nat-output",
            "flush chain \(family) nat-postrouting",
            "flush chain \(family) filter-input",
            "flush chain \(family) filter-forward",
            "flush chain \(family) filter-output",
            "flush chain \(family) services",
            "flush chain \(family) endpoints-check",
            "flush chain \(family) mark-for-masquerade",
            "flush chain \(family) masquerading",
            "flush chain \(family) \(ProxyRuleset.rejectChain)",
            "add rule \(family) nat-prerouting jump services",
            "add rule \(family) nat-output jump services",
            "add rule \(family) nat-postrouting jump masquerading",
            // New connections to a service with no endpoint are refused before they wait on a
            // route to nowhere: from pods (forward), the host (output), to node ports (input).
            "add rule \(family) filter-input ct state new jump endpoints-check",
            "add rule \(family) filter-forward ct state new jump endpoints-check",
            "add rule \(family) filter-output ct state new jump endpoints-check",
            "add rule \(family) endpoints-check ip daddr . meta l4proto . th dport vmap @no-endpoint-services",
            "add rule \(family) endpoints-check ip daddr { \(nodeAddresses) } meta l4proto . th dport vmap @no-endpoint-nodeports",
            // Any other address of the service CIDR (a port a service does not declare, a service
            // the rules do not have yet, an address nobody holds) is refused too, as upstream.
            "add rule \(family) endpoints-check ip daddr \(configuration.serviceCIDR) goto \(ProxyRuleset.rejectChain)",
            // A TCP client is told at once with a reset (an ICMP error to the host's own SYN is
            // only a soft one, retried for seconds).
            "add rule \(family) \(ProxyRuleset.rejectChain) meta l4proto tcp reject with tcp reset",
            "add rule \(family) \(ProxyRuleset.rejectChain) reject",
            "add rule \(family) services ip daddr . meta l4proto . th dport vmap @service-ips",
            "add rule \(family) services ip daddr { \(nodeAddresses) } meta l4proto . th dport vmap @service-nodeports",
            "add rule \(family) mark-for-masquerade meta mark set meta mark | \(bit)",
            "add rule \(family) masquerading meta mark & \(bit) == 0 return",
            "add rule \(family) masquerading meta mark set meta mark ^ \(bit)",
            "add rule \(family) masquerading masquerade fully-random",
        ]
    }

    /// The whole ruleset. `fresh` first deletes the table (a previous run's leftovers go with it);
    /// otherwise the chains of `previous` that are no longer wanted are deleted at the end.
    public func full(_ rules: ProxyRuleset, previous: ProxyRuleset?, fresh: Bool) -> String {
        var lines: [String] = []
        if fresh { lines += ["add table \(family)", "delete table \(family)"] }
        lines += skeleton
        for (set, timeout) in rules.affinitySets.sorted(by: { $0.key < $1.key }) { lines.append(addSet(set, timeout)) }
        lines += writeChains(rules.chains)
        for map in Self.maps {
            lines.append("flush map \(family) \(map)")
            lines += addElements(map, Self.elements(map, rules))
        }
        if let previous, !fresh {
            lines += deleteChains(Set(previous.chains.keys).subtracting(rules.chains.keys))
            lines += Set(previous.affinitySets.keys).subtracting(rules.affinitySets.keys).sorted().map { "delete set \(family) \($0)" }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Only what changed from `old` to `new`: new and changed chains rewritten, map elements
    /// added and removed, chains no longer referenced deleted last. Empty when nothing changed;
    /// nil when an affinity timeout changed (a set in use cannot be redefined: a full sync then).
    public func partial(from old: ProxyRuleset, to new: ProxyRuleset) -> String? {
        var lines: [String] = []
        for (set, timeout) in new.affinitySets.sorted(by: { $0.key < $1.key }) where old.affinitySets[set] != timeout {
            if old.affinitySets[set] != nil { return nil }
            lines.append(addSet(set, timeout))
        }
        lines += writeChains(new.chains.filter { old.chains[$0.key] != $0.value })
        for map in Self.maps {
            let before = Self.elements(map, old), after = Self.elements(map, new)
            let gone = before.filter { after[$0.key] != $0.value }.map(\.key).sorted()
            if !gone.isEmpty { lines.append("delete element \(family) \(map) { \(gone.joined(separator: ", ")) }") }
            lines += addElements(map, after.filter { before[$0.key] != $0.value })
        }
        lines += deleteChains(Set(old.chains.keys).subtracting(new.chains.keys))
        lines += Set(old.affinitySets.keys).subtracting(new.affinitySets.keys).sorted().map { "delete set \(family) \($0)" }
        return lines.isEmpty ? "" : lines.joined(separator: "\n") + "\n"
    }

    func addSet(_ name: String, _ timeout: Int) -> String {
        "add set \(family) \(name) { type ipv4_addr ; flags dynamic,timeout ; timeout \(timeout)s ; }"
    }

    /// Every chain is declared before any rule is written: a rule may jump to a chain that
    /// sorts after its own.
    func writeChains(_ chains: [String: [String]]) -> [String] {
        let sorted = chains.sorted(by: { $0.key < $1.key })
        return sorted.flatMap { ["add chain \(family) \($0.key)", "flush chain \(family) \($0.key)"] }
            + sorted.flatMap { name, rules in rules.map { "add rule \(family) \(name) \($0)" } }
    }

    /// Chains are flushed before any is deleted: one may jump to another.
    func deleteChains(_ names: Set<String>) -> [String] {
        let sorted = names.sorted()
        return sorted.map { "flush chain \(family) \($0)" } + sorted.map { "delete chain \(family) \($0)" }
    }

    func addElements(_ map: String, _ elements: [String: String]) -> [String] {
        guard !elements.isEmpty else { return [] }
        // Large maps in batches, so no line grows past what nft reads comfortably.
        let all = elements.sorted(by: { $0.key < $1.key }).map { "\($0.key) : \($0.value)" }
        return stride(from: 0, to: all.count, by: 500).map { start in
            "add element \(family) \(map) { \(all[start..<min(start + 500, all.count)].joined(separator: ", ")) }"
        }
    }

    static let maps = ["service-ips", "service-nodeports", "no-endpoint-services", "no-endpoint-nodeports"]

    /// A map's elements in a ruleset, by the map's name.
    static func elements(_ map: String, _ rules: ProxyRuleset) -> [String: String] {
        switch map {
        case "service-ips": rules.serviceIPs
        case "service-nodeports": rules.nodePorts
        case "no-endpoint-services": rules.noEndpointServices
        default: rules.noEndpointNodePorts
        }
    }
}
