import APIMachinery
import Client
import Foundation
import Logging
import Nodes
import Synchronization

/// kube-proxy's job, as a component of localkube: Services and EndpointSlices, from informers,
/// become the rules of one nftables table of the cluster's own. Changes are batched (a short
/// window after the first) and applied as the difference from the last sync; a full sync runs at
/// start, when the table went missing, and every `resyncInterval`, so rules someone flushed come
/// back. `stop` removes the table.
public final class ServiceProxy: Sendable {
    public struct Configuration: Sendable {
        /// The nftables table (`cubby-NAME`).
        public var table: String
        public var nodeName: String
        public var nodeAddress: String
        public var podCIDR: String
        /// The pods' bridge: node ports on 127.0.0.1 need it to accept loopback sources.
        public var bridge: String
        public var batchWindow: Duration = .milliseconds(50)
        public var resyncInterval: Duration = .seconds(30)

        public init(table: String, nodeName: String, nodeAddress: String, podCIDR: String, bridge: String) {
            self.table = table
            self.nodeName = nodeName
            self.nodeAddress = nodeAddress
            self.podCIDR = podCIDR
            self.bridge = bridge
        }
    }

    let configuration: Configuration
    let services: Informer
    let slices: Informer
    let logger: Logger
    let dirty: (stream: AsyncStream<Void>, continuation: AsyncStream<Void>.Continuation)
    /// The ruleset the kernel holds, as last applied.
    let applied = Mutex<ProxyRuleset?>(nil)

    public init(configuration: Configuration, informers: InformerFactory, logger: Logger) {
        self.configuration = configuration
        services = informers.informer("", "v1", "services")
        slices = informers.informer("discovery.k8s.io", "v1", "endpointslices")
        self.logger = logger
        dirty = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    var rulesConfiguration: ProxyRuleset.Configuration {
        .init(podCIDR: configuration.podCIDR, nodeAddresses: [configuration.nodeAddress, "127.0.0.1"],
              masqueradePodTraffic: !Self.bridgeCallsNetfilter)
    }

    /// Whether bridged frames pass netfilter (br_netfilter with bridge-nf-call-iptables): then a
    /// pod's reply to another pod through a service is un-DNATed without masquerading it.
    static var bridgeCallsNetfilter: Bool {
        (try? String(contentsOfFile: "/proc/sys/net/bridge/bridge-nf-call-iptables", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) == "1"
    }

    /// Registers handlers; call before the informers start.
    public func register() async {
        let continuation = dirty.continuation
        await services.addHandler { _ in continuation.yield() }
        await slices.addHandler { _ in continuation.yield() }
    }

    /// Syncs until cancelled, then leaves the rules in place (`stop` removes them).
    public func run() async {
        await services.waitForSync()
        await slices.waitForSync()
        allowLoopbackSources()
        await sync(full: true)
        var lastFull = ContinuousClock.now
        let ticker = Task { [dirty, configuration] in
            while !Task.isCancelled {
                try? await Task.sleep(for: configuration.resyncInterval)
                dirty.continuation.yield()
            }
        }
        defer { ticker.cancel() }
        for await _ in dirty.stream {
            if Task.isCancelled { break }
            try? await Task.sleep(for: configuration.batchWindow)
            let due = ContinuousClock.now - lastFull >= configuration.resyncInterval
            let missing = !(await NFTables.exists(configuration.table))
            await sync(full: due || missing)
            if due || missing { lastFull = .now }
        }
    }

    /// Every rule of the cluster gone (`cubby stop`, `cubby delete`).
    public func stop() async {
        await NFTables.deleteTable(configuration.table)
        applied.withLock { $0 = nil }
    }

    /// The rules the current Services and EndpointSlices call for.
    func desired() async -> ProxyRuleset {
        var slicesByService: [String: [JSON]] = [:]
        for slice in await slices.list() {
            guard let service = slice["metadata"]["labels"]["kubernetes.io/service-name"].string,
                  let ns = slice["metadata"]["namespace"].string else { continue }
            slicesByService["\(ns)/\(service)", default: []].append(slice)
        }
        let ports = await services.list().flatMap { service in
            ServicePort.of(service, slices: slicesByService[Informer.key(service)] ?? [], nodeName: configuration.nodeName)
        }
        return ProxyRuleset(ports, configuration: rulesConfiguration)
    }

    /// Applies what changed, or everything. A failed partial sync is followed by a full one.
    @discardableResult
    func sync(full: Bool) async -> Bool {
        let rules = await desired()
        let previous = applied.withLock { $0 }
        let script = NFTablesScript(table: configuration.table, configuration: rulesConfiguration)
        var text: String?
        if !full, let previous { text = script.partial(from: previous, to: rules) }
        if text == nil {
            let timeoutsChanged = previous.map { old in rules.affinitySets.contains { set, timeout in old.affinitySets[set].map { $0 != timeout } ?? false } } ?? true
            text = script.full(rules, previous: previous, fresh: previous == nil || timeoutsChanged)
        }
        guard let text, !text.isEmpty else { return true }
        do {
            try await NFTables.apply(text)
            applied.withLock { $0 = rules }
            return true
        } catch {
            logger.warning("service proxy: \(full ? "full" : "partial") sync failed: \(error)")
            if !full {
                applied.withLock { $0 = nil }
                return await sync(full: true)
            }
            return false
        }
    }

    /// A node port reached on 127.0.0.1 is DNATed to a pod on the bridge with its loopback source
    /// (masqueraded only on the way out); the kernel routes such packets only where the
    /// interface allows it, which this sets on the cluster's own bridge alone.
    func allowLoopbackSources() {
        let path = "/proc/sys/net/ipv4/conf/\(configuration.bridge)/route_localnet"
        if FileManager.default.fileExists(atPath: path) { try? Data("1\n".utf8).write(to: URL(fileURLWithPath: path)) }
    }
}
