import APIMachinery
import Client
import Foundation
import Logging
import Nodes
import Synchronization

/// kube-proxy's job, as a component of localkube: Services and EndpointSlices, from informers,
/// become the rules of one nftables table of the cluster's own. Changes are batched (a short
/// window after the first) and applied as the difference from the last sync; a full sync runs at
/// start, when a partial one fails (the table went missing), and every `resyncInterval`, so rules
/// someone flushed come back. The table goes with the pod network (`PodNetwork.tearDown`, on stop and delete).
public final class ServiceProxy: Sendable {
    public struct Configuration: Sendable {
        /// The nftables table (`cubby-NAME`).
        public var table: String
        public var nodeName: String
        public var nodeAddress: String
        public var podCIDR: String
        public var serviceCIDR: String
        /// The pods' bridge: node ports on 127.0.0.1 need it to accept loopback sources.
        public var bridge: String
        public var batchWindow: Duration = .milliseconds(50)
        public var resyncInterval: Duration = .seconds(30)

        public init(table: String, nodeName: String, nodeAddress: String, podCIDR: String, serviceCIDR: String, bridge: String) {
            self.serviceCIDR = serviceCIDR
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
    let wake: (stream: AsyncStream<Void>, continuation: AsyncStream<Void>.Continuation)
    let state = Mutex(State())
    let rulesConfiguration: ProxyRuleset.Configuration

    struct State {
        /// The rules the kernel holds, per service (`namespace/name`), as last applied; nil
        /// until the first full sync, and after a failed one.
        var applied: [String: ProxyRuleset]?
        /// Services whose Service or EndpointSlices changed since the last sync.
        var dirty: Set<String> = []
    }

    public init(configuration: Configuration, informers: InformerFactory, logger: Logger) {
        self.configuration = configuration
        services = informers.informer("", "v1", "services")
        slices = informers.informer("discovery.k8s.io", "v1", "endpointslices")
        self.logger = logger
        wake = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
        rulesConfiguration = .init(podCIDR: configuration.podCIDR, serviceCIDR: configuration.serviceCIDR,
                                   nodeAddresses: [configuration.nodeAddress, "127.0.0.1"], masqueradePodTraffic: !Self.bridgeCallsNetfilter)
    }

    /// Whether bridged frames pass netfilter (br_netfilter with bridge-nf-call-iptables): then a
    /// pod's reply to another pod through a service is un-DNATed without masquerading it.
    static var bridgeCallsNetfilter: Bool {
        (try? String(contentsOfFile: "/proc/sys/net/bridge/bridge-nf-call-iptables", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) == "1"
    }

    /// Registers handlers; call before the informers start.
    public func register() async {
        await services.addHandler { [self] event in markDirty(Informer.key(event.object)) }
        await slices.addHandler { [self] event in
            if let service = Self.serviceKey(of: event.object) { markDirty(service) }
        }
    }

    func markDirty(_ service: String) {
        state.withLock { _ = $0.dirty.insert(service) }
        wake.continuation.yield()
    }

    static func serviceKey(of slice: JSON) -> String? {
        guard let service = slice["metadata"]["labels"]["kubernetes.io/service-name"].string,
              let ns = slice["metadata"]["namespace"].string else { return nil }
        return "\(ns)/\(service)"
    }

    /// Syncs until cancelled, then leaves the rules in place for the pod network's teardown.
    public func run() async {
        await services.waitForSync()
        await slices.waitForSync()
        allowLoopbackSources()
        await sync(full: true)
        var lastFull = ContinuousClock.now
        let ticker = Task { [wake, configuration] in
            while !Task.isCancelled {
                try? await Task.sleep(for: configuration.resyncInterval)
                wake.continuation.yield()
            }
        }
        defer { ticker.cancel() }
        for await _ in wake.stream {
            if Task.isCancelled { break }
            try? await Task.sleep(for: configuration.batchWindow)
            // A table someone deleted makes the partial sync fail, and a full one follows.
            let due = ContinuousClock.now - lastFull >= configuration.resyncInterval
            await sync(full: due)
            if due { lastFull = .now }
        }
    }

    /// The rules one Service and its EndpointSlices call for (none once it is gone).
    func desired(_ service: JSON?, slices: [JSON]) -> ProxyRuleset {
        guard let service else { return ProxyRuleset() }
        return ProxyRuleset(ServicePort.of(service, slices: slices, nodeName: configuration.nodeName), configuration: rulesConfiguration)
    }

    /// Every service's rules.
    func desiredAll() async -> [String: ProxyRuleset] {
        var slicesByService: [String: [JSON]] = [:]
        for slice in await slices.list() {
            if let key = Self.serviceKey(of: slice) { slicesByService[key, default: []].append(slice) }
        }
        var all: [String: ProxyRuleset] = [:]
        for service in await services.list() {
            let key = Informer.key(service)
            all[key] = desired(service, slices: slicesByService[key] ?? [])
        }
        return all
    }

    /// Applies what changed for the services marked dirty, or everything; a failed partial sync
    /// is followed by a full one. Each service's rules are apart from the others' (its chains,
    /// its map keys), so a change costs what that service's rules cost, not the cluster's.
    @discardableResult
    func sync(full: Bool) async -> Bool {
        let (previous, dirty) = state.withLock { s in
            defer { s.dirty = [] }
            return (s.applied, s.dirty)
        }
        let script = NFTablesScript(table: configuration.table, configuration: rulesConfiguration)
        if !full, var applied = previous {
            var text = ""
            for key in dirty.sorted() {
                let (namespace, _) = Informer.split(key)
                let service = await services.get(key)
                let slices = service == nil ? [] : await slices.list(namespace: namespace) { Self.serviceKey(of: $0) == key }
                let rules = desired(service, slices: slices)
                guard let change = script.partial(from: applied[key] ?? ProxyRuleset(), to: rules) else { return await sync(full: true) }
                text += change
                applied[key] = rules.isEmpty ? nil : rules
            }
            guard !text.isEmpty else { return true }
            do {
                try await NFTables.apply(text)
                state.withLock { $0.applied = applied }
                return true
            } catch {
                logger.warning("service proxy: partial sync failed, syncing all: \(error)")
                state.withLock { $0.applied = nil }
                return await sync(full: true)
            }
        }
        let all = await desiredAll()
        let rules = ProxyRuleset(merging: all.values)
        let before = previous.map { ProxyRuleset(merging: $0.values) }
        // A set whose timeout changed cannot be redefined while rules use it: start afresh.
        let timeoutsChanged = before.map { old in rules.affinitySets.contains { set, timeout in old.affinitySets[set].map { $0 != timeout } ?? false } } ?? true
        do {
            try await NFTables.apply(script.full(rules, previous: before, fresh: before == nil || timeoutsChanged))
            state.withLock { $0.applied = all.filter { !$0.value.isEmpty } }
            return true
        } catch {
            logger.warning("service proxy: full sync failed: \(error)")
            state.withLock { $0.applied = nil }
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
