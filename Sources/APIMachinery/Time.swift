import Foundation

/// Times as the API writes them (RFC 3339, seconds precision, UTC) and ages as kubectl prints them.
public enum APITime {
    public static func format(_ date: Date) -> String {
        let t = Int64(date.timeIntervalSince1970.rounded(.down))
        return formatUnix(t)
    }

    /// RFC 3339 with microseconds, as MicroTime fields (leases, events.k8s.io) carry it.
    public static func formatMicro(_ date: Date) -> String {
        let t = date.timeIntervalSince1970
        let secs = Int64(t.rounded(.down))
        let micros = Int64(((t - Double(secs)) * 1_000_000).rounded(.down))
        let base = formatUnix(secs)
        return String(base.dropLast()) + "." + String(format: "%06lld", micros) + "Z"
    }

    static func formatUnix(_ t: Int64) -> String {
        var time = time_t(t)
        var parts = tm()
        gmtime_r(&time, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
                      Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
    }

    public static func parse(_ s: String) -> Date? {
        // yyyy-MM-ddTHH:mm:ss[.frac](Z|±hh:mm)
        let u = Array(s.utf8)
        guard u.count >= 20 else { return nil }
        func num(_ a: Int, _ n: Int) -> Int? {
            var v = 0
            for k in a..<a + n { guard u[k] >= 0x30, u[k] <= 0x39 else { return nil }; v = v * 10 + Int(u[k] - 0x30) }
            return v
        }
        guard let y = num(0, 4), let mo = num(5, 2), let d = num(8, 2), let h = num(11, 2), let mi = num(14, 2),
              let se = num(17, 2) else { return nil }
        var k = 19
        var frac = 0.0
        if k < u.count, u[k] == UInt8(ascii: ".") {
            k += 1
            var scale = 0.1
            while k < u.count, u[k] >= 0x30, u[k] <= 0x39 { frac += Double(u[k] - 0x30) * scale; scale /= 10; k += 1 }
        }
        var offset = 0
        if k < u.count, u[k] == UInt8(ascii: "+") || u[k] == UInt8(ascii: "-"), k + 6 <= u.count,
           let oh = num(k + 1, 2), let om = num(k + 4, 2)
        {
            offset = (oh * 3600 + om * 60) * (u[k] == UInt8(ascii: "-") ? -1 : 1)
        }
        var parts = tm()
        parts.tm_year = Int32(y - 1900); parts.tm_mon = Int32(mo - 1); parts.tm_mday = Int32(d)
        parts.tm_hour = Int32(h); parts.tm_min = Int32(mi); parts.tm_sec = Int32(se)
        let t = timegm(&parts)
        return Date(timeIntervalSince1970: Double(t - offset) + frac)
    }

    /// kubectl's age column (apimachinery's HumanDuration): "45s", "5m10s", "3h", "2d4h", "400d", "3y20d".
    public static func humanDuration(_ seconds: Double) -> String {
        let s = Int64(seconds)
        if s < -1 { return "<invalid>" }
        if s < 0 { return "0s" }
        if s < 120 { return "\(s)s" }
        let m = s / 60
        if m < 10 { let rs = s % 60; return rs == 0 ? "\(m)m" : "\(m)m\(rs)s" }
        if m < 180 { return "\(m)m" }
        let h = s / 3600
        if h < 8 { let rm = (s % 3600) / 60; return rm == 0 ? "\(h)h" : "\(h)h\(rm)m" }
        if h < 48 { return "\(h)h" }
        if h < 24 * 8 { let rh = h % 24; return rh == 0 ? "\(h / 24)d" : "\(h / 24)d\(rh)h" }
        if h < 24 * 365 * 2 { return "\(h / 24)d" }
        if h < 24 * 365 * 8 { let dy = (h / 24) % 365; return dy == 0 ? "\(h / 24 / 365)y" : "\(h / 24 / 365)y\(dy)d" }
        return "\(h / 24 / 365)y"
    }

    /// The age of an object from its creationTimestamp, or "<unknown>".
    public static func age(_ timestamp: JSON, now: Date = Date()) -> String {
        guard let s = timestamp.string, let d = parse(s) else { return "<unknown>" }
        return humanDuration(now.timeIntervalSince(d))
    }
}
