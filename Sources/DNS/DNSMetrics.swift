import Synchronization

/// Counters under CoreDNS's metric names, so dashboards and alerts written for kube-dns's
/// :9153 read this server too. Fixed tables indexed by small numbers keep the per-query cost to
/// one uncontended lock.
final class DNSMetrics: Sendable {
    /// The query types CoreDNS counts by name; the rest are "other".
    static let typeNames = ["A", "AAAA", "NS", "CNAME", "SOA", "PTR", "MX", "TXT", "SRV", "ANY", "HTTPS", "SVCB", "IXFR", "AXFR", "other"]
    static let typeIndex: [UInt16: Int] = [1: 0, 28: 1, 2: 2, 5: 3, 6: 4, 12: 5, 15: 6, 16: 7, 33: 8, 255: 9, 65: 10, 64: 11, 251: 12, 252: 13]
    static let rcodeNames = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET",
                             "NXRRSET", "NOTAUTH", "NOTZONE", "RCODE11", "RCODE12", "RCODE13", "RCODE14", "RCODE15", "BADVERS"]

    enum Family: Int { case ipv4 = 0, ipv6 = 1 }

    private struct Counters {
        /// [proto (udp, tcp)][family][type]
        var requests = [Int](repeating: 0, count: 2 * 2 * DNSMetrics.typeNames.count)
        var responses = [Int](repeating: 0, count: DNSMetrics.rcodeNames.count + 1)
        var cacheHits = 0
        var cacheDenialHits = 0
        var cacheMisses = 0
    }

    private let counters = Mutex(Counters())
    /// CoreDNS's `server` label: `dns://HOST:PORT`.
    let server: Mutex<String>

    init(server: String = "dns://:53") { self.server = Mutex(server) }

    func request(type: RRType?, transport: QueryResponder.Transport, family: Family) {
        let t = type.flatMap { Self.typeIndex[$0.rawValue] } ?? Self.typeNames.count - 1
        let index = ((transport == .udp ? 0 : 1) * 2 + family.rawValue) * Self.typeNames.count + t
        counters.withLock { $0.requests[index] += 1 }
    }

    func response(rcode: UInt16) {
        let index = Int(rcode) < Self.rcodeNames.count ? Int(rcode) : Self.rcodeNames.count
        counters.withLock { $0.responses[index] += 1 }
    }

    /// A forwarded query answered from the cache (a denial: NXDOMAIN or no records) or not.
    func cache(hit: Bool, denial: Bool = false) {
        counters.withLock { c in
            if !hit { c.cacheMisses += 1 } else if denial { c.cacheDenialHits += 1 } else { c.cacheHits += 1 }
        }
    }

    /// The Prometheus text exposition (format 0.0.4).
    func exposition(cacheEntries: Int) -> String {
        let c = counters.withLock { $0 }
        let server = server.withLock { $0 }
        var out = """
            # HELP coredns_dns_requests_total Counter of DNS requests made per zone, protocol and family.
            # TYPE coredns_dns_requests_total counter

            """
        for (p, proto) in ["udp", "tcp"].enumerated() {
            for family in 0..<2 {
                for (t, type) in Self.typeNames.enumerated() {
                    let n = c.requests[(p * 2 + family) * Self.typeNames.count + t]
                    guard n > 0 else { continue }
                    out += "coredns_dns_requests_total{server=\"\(server)\",zone=\".\",view=\"\",proto=\"\(proto)\",family=\"\(family + 1)\",type=\"\(type)\"} \(n)\n"
                }
            }
        }
        out += """
            # HELP coredns_dns_responses_total Counter of response status codes.
            # TYPE coredns_dns_responses_total counter

            """
        for (i, n) in c.responses.enumerated() where n > 0 {
            let rcode = i < Self.rcodeNames.count ? Self.rcodeNames[i] : "other"
            out += "coredns_dns_responses_total{server=\"\(server)\",zone=\".\",view=\"\",rcode=\"\(rcode)\",plugin=\"\"} \(n)\n"
        }
        out += """
            # HELP coredns_cache_hits_total The count of cache hits.
            # TYPE coredns_cache_hits_total counter
            coredns_cache_hits_total{server="\(server)",type="success",zones=".",view=""} \(c.cacheHits)
            coredns_cache_hits_total{server="\(server)",type="denial",zones=".",view=""} \(c.cacheDenialHits)
            # HELP coredns_cache_misses_total The count of cache misses. Deprecated, derive misses from cache hits/requests counters.
            # TYPE coredns_cache_misses_total counter
            coredns_cache_misses_total{server="\(server)",zones=".",view=""} \(c.cacheMisses)
            # HELP coredns_cache_entries The number of elements in the cache.
            # TYPE coredns_cache_entries gauge
            coredns_cache_entries{server="\(server)",zones=".",view=""} \(cacheEntries)

            """
        return out
    }
}
