import APIMachinery
import Crypto
import Foundation

/// The pod network of a cluster with real pods: one Linux bridge of its own (`cubby-NAME`), whose
/// address is the pods' gateway and the node's address, the CNI configuration containerd uses to
/// put each pod on it (bridge + host-local IPAM from the node's podCIDR, portmap, hairpin mode,
/// masquerade for traffic leaving the pod CIDR), and a route that sends the service CIDR to the
/// bridge, so no packet for a service address ever leaves the machine.
public struct PodNetwork: Sendable {
    public let layout: RuntimeLayout
    public let network: ClusterNetwork

    public struct ClaimError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Takes the cluster's name on this machine (/run/cubby/NAME) and an address slot no other
    /// running cluster holds, keeping the one recorded in the data folder when it is still free.
    public static func claim(_ layout: RuntimeLayout) throws -> PodNetwork {
        let files = FileManager.default
        try files.createDirectory(at: layout.runDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let me = layout.dataDirectory.standardizedFileURL.path
        if let owner = try? String(contentsOf: layout.ownerURL, encoding: .utf8), owner != me, files.fileExists(atPath: owner) {
            throw ClaimError(description: "another cluster named \"\(layout.name)\" runs from \(owner); choose another name")
        }
        try Data(me.utf8).write(to: layout.ownerURL, options: .atomic)

        let taken = Set(otherClusters(than: layout.name).compactMap { recorded(in: URL(fileURLWithPath: $0, isDirectory: true))?.slot })
        let wanted = recorded(in: layout.dataDirectory)?.slot
        guard let slot = wanted.flatMap({ taken.contains($0) ? nil : $0 }) ?? ClusterNetwork.slots.first(where: { !taken.contains($0) }) else {
            throw ClaimError(description: "every pod network slot (\(ClusterNetwork.slots.count)) is held by another cluster; stop one first")
        }
        let network = ClusterNetwork(slot: slot, bridge: layout.bridgeName)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(network).write(to: layout.networkURL, options: .atomic)
        return PodNetwork(layout: layout, network: network)
    }

    /// The data folders of the other clusters that claimed a name here and still exist.
    static func otherClusters(than name: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: RuntimeLayout.runRoot.path)) ?? []
        return names.filter { $0 != name }.compactMap { other in
            let owner = RuntimeLayout.runRoot.appendingPathComponent(other).appendingPathComponent("owner")
            guard let dir = try? String(contentsOf: owner, encoding: .utf8), FileManager.default.fileExists(atPath: dir) else { return nil }
            return dir
        }
    }

    static func recorded(in dataDirectory: URL) -> ClusterNetwork? {
        guard let data = try? Data(contentsOf: dataDirectory.appendingPathComponent("network.json")) else { return nil }
        return try? JSONDecoder().decode(ClusterNetwork.self, from: data)
    }

    /// The network the data folder last ran with, if any (for tearing down after a crash).
    public static func recorded(_ layout: RuntimeLayout) -> PodNetwork? {
        recorded(in: layout.dataDirectory).map { PodNetwork(layout: layout, network: $0) }
    }

    var gatewayCIDR: String { network.gateway() + "/24" }

    /// Makes the bridge, its address and the service route, and writes the CNI configuration.
    /// Each step is skipped when already done, so running it again repairs what went missing.
    public func setUp() async throws {
        let ip = try Self.tool("ip")
        let bridge = network.bridge
        if (try? await HostCommand.run(ip, ["link", "show", bridge])) == nil {
            try await HostCommand.run(ip, ["link", "add", bridge, "type", "bridge"])
        }
        try await HostCommand.run(ip, ["addr", "replace", gatewayCIDR, "dev", bridge])
        try await HostCommand.run(ip, ["link", "set", bridge, "up"])
        let existing = try await HostCommand.run(ip, ["route", "show", "exact", network.serviceCIDR])
        if existing.isEmpty {
            try await HostCommand.run(ip, ["route", "add", network.serviceCIDR, "dev", bridge])
        } else if !existing.contains("dev \(bridge) ") {
            throw ClaimError(description: "the service CIDR \(network.serviceCIDR) is already routed elsewhere (\(existing.trimmingCharacters(in: .whitespacesAndNewlines)))")
        }
        try writeCNIConfig()
    }

    func writeCNIConfig() throws {
        let subnet = network.nodePodCIDR(0)
        let config: JSON = [
            "cniVersion": "0.4.0", "name": .string(layout.cniNetworkName),
            "plugins": [
                ["type": "bridge", "bridge": .string(network.bridge), "isGateway": true, "ipMasq": true, "hairpinMode": true,
                 "ipam": ["type": "host-local", "dataDir": .string(layout.ipamPath),
                          "ranges": [[["subnet": .string(subnet), "gateway": .string(network.gateway())]]],
                          "routes": [["dst": "0.0.0.0/0"]]]],
                ["type": "portmap", "capabilities": ["portMappings": true]],
            ],
        ]
        let dir = URL(fileURLWithPath: layout.cniConfigPath, isDirectory: true)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try config.data().write(to: dir.appendingPathComponent("10-cubby.conflist"), options: .atomic)
    }

    /// Removes the bridge (its address and routes go with it), the service proxy's table, and any
    /// masquerade rule CNI left behind for this network (after a crash, sandboxes may not have
    /// been torn down one by one).
    public func tearDown() async {
        if let ip = HostCommand.find("ip") {
            _ = try? await HostCommand.run(ip, ["link", "del", network.bridge])
        }
        await NFTables.deleteTable(layout.proxyTable)
        await Self.removeRules(comment: "name: \\\"\(layout.cniNetworkName)\\\"")
    }

    /// Deletes the nat rules whose comment holds `comment` (as iptables-save quotes it) and the
    /// chains they jump to, with one iptables-restore that leaves every other rule as it is.
    static func removeRules(comment: String) async {
        guard let save = HostCommand.find("iptables-save"), let restore = HostCommand.find("iptables-restore"),
              let rules = try? await HostCommand.run(save, ["-t", "nat"]) else { return }
        var script = ["*nat"], chains: [String] = []
        for line in rules.split(separator: "\n") where line.hasPrefix("-A ") && line.contains(comment) {
            script.append("-D " + line.dropFirst(3))
            if let jump = line.range(of: " -j ") {
                let target = line[jump.upperBound...].split(separator: " ").first.map(String.init) ?? ""
                if target.hasPrefix("CNI-") && !target.hasPrefix("CNI-HOSTPORT") { chains.append(target) }
            }
        }
        guard script.count > 1 else { return }
        for chain in Set(chains) { script += ["-F \(chain)", "-X \(chain)"] }
        script.append("COMMIT")
        _ = try? await HostCommand.run(restore, ["--noflush"], input: script.joined(separator: "\n") + "\n")
    }

    /// The masquerade chain CNI's bridge plugin made for a sandbox (`CNI-` and the first 24 hex
    /// digits of sha512(network name + sandbox id)), removed after the sandbox: CNI's own teardown
    /// can leave it behind empty.
    static func removeMasqueradeChain(_ layout: RuntimeLayout, sandboxID: String) async {
        guard let iptables = HostCommand.find("iptables") else { return }
        let digest = SHA512.hash(data: Data((layout.cniNetworkName + sandboxID).utf8)).map { String(format: "%02x", $0) }.joined()
        let chain = "CNI-" + digest.prefix(24)
        guard (try? await HostCommand.run(iptables, ["-t", "nat", "-S", chain])) != nil else { return }
        _ = try? await HostCommand.run(iptables, ["-t", "nat", "-F", chain])
        _ = try? await HostCommand.run(iptables, ["-t", "nat", "-X", chain])
    }

    static func tool(_ name: String) throws -> String {
        guard let path = HostCommand.find(name) else { throw ClaimError(description: "\(name) not found; install iproute2") }
        return path
    }
}
