import APIMachinery
import Foundation
import GoRegexp

/// Kubernetes' own CEL libraries: quantities (`quantity('1Gi').isGreaterThan(...)`), URLs, IP
/// addresses and CIDRs, and the regex extension (`find`, `findAll`), with upstream's names.
enum KubernetesLibrary {
    static let quantityType = "kubernetes.Quantity"
    static let urlType = "net.URL"
    static let ipType = "net.IP"
    static let cidrType = "net.CIDR"

    static func quantity(_ text: String) -> Double? { Quantity.parse(text) }

    static func call(_ name: String, _ args: [CELValue]) -> CELValue? {
        switch (name, args.first) {
        case ("quantity", .string(let s)?):
            return quantity(s) == nil ? .error("quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")
                : .opaque(type: quantityType, value: s)
        case ("isQuantity", .string(let s)?): return .bool(quantity(s) != nil)
        case ("url", .string(let s)?):
            return parseURL(s) == nil ? .error("URL parse error during conversion from string: \(s)") : .opaque(type: urlType, value: s)
        case ("isURL", .string(let s)?): return .bool(parseURL(s) != nil)
        case ("ip", .string(let s)?):
            return address(s) == nil ? .error("IP Address '\(s)' parse error during conversion from string") : .opaque(type: ipType, value: s)
        case ("isIP", .string(let s)?): return .bool(address(s) != nil)
        case ("cidr", .string(let s)?):
            return network(s) == nil ? .error("network address parse error during conversion from string: \(s)") : .opaque(type: cidrType, value: s)
        case ("isCIDR", .string(let s)?): return .bool(network(s) != nil)
        case ("find", .string(let s)?), ("findAll", .string(let s)?):
            guard args.count >= 2, case .string(let pattern) = args[1] else { return nil }
            let regex: GoRegexp
            do {
                _ = try GoRegexp(pattern)
                regex = try GoRegexp("^(?:\(pattern))$")
            } catch { return .error("invalid regex: \(error)") }
            var limit = Int.max
            if args.count == 3, case .int(let n) = args[2] { limit = n < 0 ? .max : Int(n) }
            let found = matches(regex, in: s, limit: name == "find" ? 1 : limit)
            return name == "find" ? .string(found.first ?? "") : .list(found.map { .string($0) })
        case (_, .opaque(let type, let value)?):
            switch type {
            case quantityType: return quantityMethod(name, value, Array(args.dropFirst()))
            case urlType: return urlMethod(name, value)
            case ipType: return ipMethod(name, value)
            case cidrType: return cidrMethod(name, value, Array(args.dropFirst()))
            default: return nil
            }
        default: return nil
        }
    }

    // MARK: quantity

    static func quantityMethod(_ name: String, _ text: String, _ args: [CELValue]) -> CELValue? {
        guard let value = quantity(text) else { return .error("invalid quantity") }
        func other() -> Double? {
            switch args.first {
            case .opaque(quantityType, let t)?: return quantity(t)
            case .int(let i)?: return Double(i)
            default: return nil
            }
        }
        switch name {
        case "isInteger": return .bool(value == value.rounded() && abs(value) < 9.2e18)
        case "asInteger":
            guard value == value.rounded(), abs(value) < 9.2e18 else { return .error("cannot convert value to integer") }
            return .int(Int64(value))
        case "asApproximateFloat": return .double(value)
        case "sign": return .int(value > 0 ? 1 : value < 0 ? -1 : 0)
        case "isGreaterThan": return other().map { .bool(value > $0) }
        case "isLessThan": return other().map { .bool(value < $0) }
        case "compareTo": return other().map { .int(value < $0 ? -1 : value > $0 ? 1 : 0) }
        case "add", "sub":
            guard let o = other() else { return nil }
            let sum = name == "add" ? value + o : value - o
            return .opaque(type: quantityType, value: sum == sum.rounded() ? String(Int64(sum)) : String(sum))
        default: return nil
        }
    }

    // MARK: url

    static func parseURL(_ s: String) -> URLComponents? {
        guard let u = URLComponents(string: s), u.scheme != nil || s.hasPrefix("/") else { return nil }
        return u
    }

    static func urlMethod(_ name: String, _ text: String) -> CELValue? {
        guard let u = parseURL(text) else { return .error("invalid URL") }
        switch name {
        case "getScheme": return .string(u.scheme ?? "")
        case "getHost": return .string((u.percentEncodedHost.map { $0.contains(":") ? "[\($0)]" : $0 } ?? "") + (u.port.map { ":\($0)" } ?? ""))
        case "getHostname": return .string(u.host ?? "")
        case "getPort": return .string(u.port.map(String.init) ?? "")
        case "getEscapedPath": return .string(u.percentEncodedPath)
        case "getQuery":
            var query: [(key: CELValue, value: CELValue)] = []
            for item in u.queryItems ?? [] {
                if let i = query.firstIndex(where: { CELValue.equal($0.key, .string(item.name)) }), case .list(let l) = query[i].value {
                    query[i].value = .list(l + [.string(item.value ?? "")])
                } else {
                    query.append((.string(item.name), .list([.string(item.value ?? "")])))
                }
            }
            return .map(query)
        default: return nil
        }
    }

    // MARK: ip and cidr

    /// The address's bytes (4 or 16), as Go's netip parses it (no zones, no IPv4-mapped forms).
    static func address(_ s: String) -> [UInt8]? {
        if s.contains(".") && !s.contains(":") {
            let parts = s.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 4 else { return nil }
            var bytes: [UInt8] = []
            for p in parts {
                guard !p.isEmpty, p.count <= 3, p.allSatisfy(\.isNumber), !(p.count > 1 && p.first == "0"), let v = UInt8(p) else { return nil }
                bytes.append(v)
            }
            return bytes
        }
        guard s.contains(":"), !s.contains("%") else { return nil }
        var storage = in6_addr()
        guard inet_pton(AF_INET6, s, &storage) == 1 else { return nil }
        if s.contains(".") { return nil }  // IPv4-mapped forms are refused, as upstream does
        return withUnsafeBytes(of: storage) { Array($0) }
    }

    static func network(_ s: String) -> (bytes: [UInt8], prefix: Int)? {
        let parts = s.split(separator: "/")
        guard parts.count == 2, let bytes = address(String(parts[0])), let prefix = Int(parts[1]), prefix >= 0, prefix <= bytes.count * 8 else { return nil }
        return (bytes, prefix)
    }

    static func ipMethod(_ name: String, _ text: String) -> CELValue? {
        guard let b = address(text) else { return .error("invalid IP") }
        let v4 = b.count == 4
        switch name {
        case "family": return .int(v4 ? 4 : 6)
        case "isUnspecified": return .bool(b.allSatisfy { $0 == 0 })
        case "isLoopback": return .bool(v4 ? b[0] == 127 : b == [UInt8](repeating: 0, count: 15) + [1])
        case "isLinkLocalMulticast": return .bool(v4 ? (b[0] == 224 && b[1] == 0 && b[2] == 0) : (b[0] == 0xff && b[1] & 0x0f == 2))
        case "isLinkLocalUnicast": return .bool(v4 ? (b[0] == 169 && b[1] == 254) : (b[0] == 0xfe && b[1] & 0xc0 == 0x80))
        case "isGlobalUnicast":
            if b.allSatisfy({ $0 == 0 }) { return .bool(false) }
            if v4 { return .bool(!(b[0] == 127 || b[0] >= 224 || (b[0] == 169 && b[1] == 254) || b == [255, 255, 255, 255])) }
            return .bool(!(b[0] == 0xff || (b[0] == 0xfe && b[1] & 0xc0 == 0x80) || b == [UInt8](repeating: 0, count: 15) + [1]))
        case "string": return .string(text)
        default: return nil
        }
    }

    static func cidrMethod(_ name: String, _ text: String, _ args: [CELValue]) -> CELValue? {
        guard let (bytes, prefix) = network(text) else { return .error("invalid CIDR") }
        func contains(_ other: [UInt8], _ otherPrefix: Int) -> Bool {
            guard other.count == bytes.count, otherPrefix >= prefix else { return false }
            for bit in 0..<prefix where (bytes[bit / 8] >> (7 - bit % 8)) & 1 != (other[bit / 8] >> (7 - bit % 8)) & 1 { return false }
            return true
        }
        switch name {
        case "prefixLength": return .int(Int64(prefix))
        case "ip": return .opaque(type: ipType, value: String(text.split(separator: "/")[0]))
        case "containsIP":
            switch args.first {
            case .string(let s)?, .opaque(ipType, let s)?: return address(s).map { .bool(contains($0, bytes.count * 8)) } ?? .error("invalid IP")
            default: return nil
            }
        case "containsCIDR":
            switch args.first {
            case .string(let s)?, .opaque(cidrType, let s)?: return network(s).map { .bool(contains($0.bytes, $0.prefix)) } ?? .error("invalid CIDR")
            default: return nil
            }
        default: return nil
        }
    }

    // MARK: regex

    /// The leftmost non-overlapping matches of `regex` (anchored at both ends) in `text`, at most
    /// `limit`; at each place the longest (Go prefers the first alternative, which differs only
    /// for lazy patterns).
    static func matches(_ regex: GoRegexp, in text: String, limit: Int) -> [String] {
        var found: [String] = []
        let scalars = Array(text.unicodeScalars)
        var start = 0
        while found.count < limit, start <= scalars.count {
            var matched: (Int, Int)? = nil
            outer: for i in start...scalars.count {
                for j in stride(from: scalars.count, through: i, by: -1) {
                    let candidate = String(String.UnicodeScalarView(scalars[i..<j]))
                    if regex.matches(candidate) { matched = (i, j); break outer }
                }
            }
            guard let (i, j) = matched else { break }
            found.append(String(String.UnicodeScalarView(scalars[i..<j])))
            start = j > i ? j : j + 1
        }
        return found
    }
}
