import APIMachinery
import Client
import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// The cluster DNS server (kube-dns's job, as CoreDNS's kubernetes, forward, cache and
/// prometheus plugins do it): the Kubernetes DNS specification for the cluster zone, served from
/// the services, endpointslices and namespaces informers; other names forwarded to the host's
/// resolvers.
public final class ClusterDNS: Sendable {
    let informers: InformerFactory
    let upstreams: [String]
    let logger: Logger
    let responder: QueryResponder
    let store = ClusterRecordStore()
    let metrics = DNSMetrics()

    private struct Running: Sendable {
        var server: DNSServer
        var forwarder: Forwarder?
        var metricsChannel: Channel?
    }

    private let running = Mutex<Running?>(nil)

    public init(informers: InformerFactory, domain: String = "cluster.local", upstreams: [String], logger: Logger) {
        self.informers = informers
        self.upstreams = upstreams
        self.logger = logger
        let zone = ClusterZone(domain: domain) ?? ClusterZone(domain: "cluster.local")!
        if zone.zoneLabels.joined(separator: ".") != domain.lowercased().trimmingCharacters(in: ["."]) {
            logger.warning("cluster domain \(domain) is not a domain name; serving cluster.local")
        }
        responder = QueryResponder(zone: zone)
    }

    /// Registers informer handlers (call before informers.start()); waits for nothing.
    public func register() async {
        let store = store
        let services = informers.informer("", "v1", "services")
        let slices = informers.informer("discovery.k8s.io", "v1", "endpointslices")
        let namespaces = informers.informer("", "v1", "namespaces")
        await services.addHandler { event in
            switch event {
            case .added(let o), .updated(_, let o): store.upsertService(o)
            case .deleted(let o): store.removeService(o)
            }
        }
        await slices.addHandler { event in
            switch event {
            case .added(let o), .updated(_, let o): store.upsertSlice(o)
            case .deleted(let o): store.removeSlice(o)
            }
        }
        await namespaces.addHandler { event in
            switch event {
            case .added(let o), .updated(_, let o): store.setNamespace(o, exists: true)
            case .deleted(let o): store.setNamespace(o, exists: false)
            }
        }
        Task {
            await services.waitForSync()
            await slices.waitForSync()
            await namespaces.waitForSync()
            store.markSynced()
        }
    }

    /// Binds UDP+TCP on host:port (port 0 = any; returns the bound port) and metrics on host:metricsPort (nil = none).
    public func start(host: String, port: Int, metricsPort: Int?) async throws -> Int {
        await stop()
        let group = MultiThreadedEventLoopGroup.singleton
        let server = DNSServer(responder: responder, store: store, forwarder: nil, metrics: metrics, logger: logger)
        let bound = try await server.start(host: host, port: port, group: group)
        // The upstreams are chosen once the port is known, so this server's own address can be
        // left out; until then (microseconds) outside names would get SERVFAIL.
        let addresses = Self.upstreamAddresses(upstreams, avoiding: host, port: bound, logger: logger)
        var forwarder: Forwarder?
        do {
            if !addresses.isEmpty {
                let made = Forwarder(upstreams: addresses, group: group)
                try await made.start()
                forwarder = made
                server.forwarder = made
            } else {
                logger.warning("cluster DNS has no upstream resolvers: names outside the cluster get SERVFAIL")
            }
            metrics.server.withLock { $0 = "dns://\(host.contains(":") ? "[\(host)]" : host):\(bound)" }
            var metricsChannel: Channel?
            if let metricsPort {
                let metrics = metrics, forwarderCache = forwarder?.cache
                metricsChannel = try await MetricsServer.bind(host: host, port: metricsPort, group: group) {
                    metrics.exposition(cacheEntries: forwarderCache?.count ?? 0)
                }
            }
            running.withLock { $0 = Running(server: server, forwarder: forwarder, metricsChannel: metricsChannel) }
        } catch {
            await server.stop()
            await forwarder?.stop()
            throw error
        }
        logger.info("cluster DNS serving \(responder.zone.zone) on \(host):\(bound) (udp, tcp), forwarding to \(addresses.map { "\($0.ipAddress ?? "?"):\($0.port ?? 53)" })")
        return bound
    }

    public func stop() async {
        guard let was = running.withLock({ r in defer { r = nil }; return r }) else { return }
        await was.server.stop()
        await was.forwarder?.stop()
        try? await was.metricsChannel?.close()
    }

    /// The `nameserver` lines of a resolv.conf, in order.
    public static func resolvConfNameservers(_ path: String = "/etc/resolv.conf") -> [String] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        // As glibc reads it: the keyword starts the line.
        return text.split(whereSeparator: \.isNewline).compactMap { line in
            guard line.hasPrefix("nameserver") else { return nil }
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 2, fields[0] == "nameserver" else { return nil }
            return String(fields[1])
        }
    }

    /// The cluster zone's reply to a query's bytes, from the current records, as UDP (or TCP)
    /// would send it; nil when the query needs an upstream or deserves no reply. No sockets: for
    /// benchmarks and checks.
    public func answer(_ query: [UInt8], overTCP: Bool = false) -> [UInt8]? {
        guard case .reply(let bytes, _) = responder.respond(to: query, transport: overTCP ? .tcp : .udp, records: store.snapshot)
        else { return nil }
        return bytes
    }

    /// Parses "ip", "ip:port" and "[ipv6]:port" (port 53 by default), leaving out what does not
    /// parse and any address this server itself listens on: forwarding there would loop.
    static func upstreamAddresses(_ specs: [String], avoiding host: String, port: Int,
                                  logger: Logger = Logger(label: "cubby.dns")) -> [SocketAddress] {
        var own = Set<String>()
        if host.isEmpty || host == "0.0.0.0" || host == "::" {
            own = ["127.0.0.1", "::1", "0.0.0.0", "::"]
            for device in (try? System.enumerateDevices()) ?? [] {
                if let ip = device.address?.ipAddress { own.insert(ip) }
            }
        } else if let ip = try? SocketAddress(ipAddress: host, port: port).ipAddress {
            own = [ip]
        }
        var addresses: [SocketAddress] = []
        for spec in specs {
            guard let address = parseUpstream(spec) else {
                logger.warning("ignoring upstream DNS server \(spec): not an IP address with an optional port")
                continue
            }
            if address.port == port, let ip = address.ipAddress, own.contains(ip) {
                logger.warning("ignoring upstream DNS server \(spec): it is this server's own address")
                continue
            }
            if !addresses.contains(address) { addresses.append(address) }
        }
        return addresses
    }

    static func parseUpstream(_ spec: String) -> SocketAddress? {
        var host = spec.trimmingCharacters(in: .whitespaces), port = 53
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return nil }
            let rest = host[host.index(after: close)...]
            if rest.hasPrefix(":") {
                guard let p = Int(rest.dropFirst()) else { return nil }
                port = p
            } else if !rest.isEmpty {
                return nil
            }
            host = String(host[host.index(after: host.startIndex)..<close])
        } else if host.filter({ $0 == ":" }).count == 1, let colon = host.firstIndex(of: ":") {
            guard let p = Int(host[host.index(after: colon)...]) else { return nil }
            port = p
            host = String(host[..<colon])
        }
        guard (1...65535).contains(port) else { return nil }
        return try? SocketAddress(ipAddress: host, port: port)
    }
}
