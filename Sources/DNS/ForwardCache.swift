import Synchronization

/// A small cache of upstream answers, so a name pods ask for again and again is served from
/// memory: an answer lives for its smallest TTL, a denial (NXDOMAIN, or no records of the type)
/// for its SOA's negative TTL (RFC 2308), either at most `maxTTL` (CoreDNS's `cache 30`, which
/// also keeps denials: pods' search lists make many). Errors and truncated replies are not kept.
/// At most `capacity` answers. As in CoreDNS, the TTLs a client sees are capped too, and count
/// down while the answer is kept.
final class ForwardCache: Sendable {
    struct Key: Hashable, Sendable {
        /// Lowercased.
        var name: DNSName
        var type: RRType
        var qclass: UInt16
        var dnssecOK: Bool
        var checkingDisabled: Bool
    }

    private struct Entry: Sendable {
        var message: DNSMessage
        var expires: ContinuousClock.Instant
    }

    let capacity: Int
    let maxTTL: UInt32
    private let entries = Mutex<[Key: Entry]>([:])

    init(capacity: Int = 10_000, maxTTL: UInt32 = 30) {
        self.capacity = capacity
        self.maxTTL = maxTTL
    }

    var count: Int { entries.withLock { $0.count } }

    /// The cached answer, every TTL the time it has left (as CoreDNS's cache serves them).
    func get(_ key: Key, now: ContinuousClock.Instant = .now) -> DNSMessage? {
        let entry: Entry? = entries.withLock { entries in
            guard let entry = entries[key] else { return nil }
            guard entry.expires > now else { entries[key] = nil; return nil }
            return entry
        }
        guard let entry else { return nil }
        var message = entry.message
        let left = UInt32(clamping: max(0, (entry.expires - now).components.seconds))
        Self.setTTLs(&message) { _ in left }
        return message
    }

    /// Keeps `message` if it is a positive answer with a TTL; returns it with its TTLs capped.
    @discardableResult
    func put(_ key: Key, _ message: DNSMessage, now: ContinuousClock.Instant = .now) -> DNSMessage {
        guard let ttl = Self.ttl(of: message).map({ min($0, maxTTL) }), ttl > 0 else { return message }
        var message = message
        Self.setTTLs(&message) { min($0, ttl) }
        let entry = Entry(message: message, expires: now + .seconds(Int(ttl)))
        entries.withLock { entries in
            if entries.count >= capacity, entries[key] == nil {
                entries = entries.filter { $0.value.expires > now }
                // Still full of live answers: drop an arbitrary tenth (dictionary order is
                // effectively random) rather than scan for the oldest on every insert.
                if entries.count >= capacity {
                    for k in Array(entries.keys.prefix(max(1, capacity / 10))) { entries[k] = nil }
                }
            }
            entries[key] = entry
        }
        return message
    }

    /// How long an answer may be kept; nil for what is not kept.
    static func ttl(of message: DNSMessage) -> UInt32? {
        guard !message.truncated else { return nil }
        if message.rcode == RCode.noError, !message.answers.isEmpty {
            return (message.answers + message.authority).map(\.ttl).min()
        }
        guard message.rcode == RCode.noError || message.rcode == RCode.nameError,
              let soa = message.authority.first(where: { $0.type == .soa }), case .soa(let fields) = soa.data else { return nil }
        return min(soa.ttl, fields.minimum)
    }

    private static func setTTLs(_ message: inout DNSMessage, _ ttl: (UInt32) -> UInt32) {
        for i in message.answers.indices { message.answers[i].ttl = ttl(message.answers[i].ttl) }
        for i in message.authority.indices { message.authority[i].ttl = ttl(message.authority[i].ttl) }
        for i in message.additional.indices { message.additional[i].ttl = ttl(message.additional[i].ttl) }
    }
}
