import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The machine the kubelet runs on, read as upstream's cadvisor reads it: cores, memory, the
/// disk under the cluster's data, kernel, OS and the ids /etc and /proc give.
enum Machine {
    static var cpuCount: Int { ProcessInfo.processInfo.activeProcessorCount }
    static var memoryBytes: Int64 { meminfo("MemTotal") ?? Int64(ProcessInfo.processInfo.physicalMemory) }
    static var availableMemoryBytes: Int64 { meminfo("MemAvailable") ?? memoryBytes }
    static var ephemeralStorageBytes: Int64 { disk("/").total }

    /// A /proc/meminfo line in bytes.
    static func meminfo(_ key: String) -> Int64? {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(key + ":") {
            let parts = line.split(separator: " ")
            if parts.count >= 2, let kb = Int64(parts[1]) { return kb * 1024 }
        }
        return nil
    }

    static func disk(_ path: String) -> (total: Int64, available: Int64) {
        var s = statvfs()
        guard statvfs(path, &s) == 0 else { return (0, 0) }
        return (Int64(s.f_blocks) * Int64(s.f_frsize), Int64(s.f_bavail) * Int64(s.f_frsize))
    }

    static var kernelVersion: String {
        var u = utsname()
        uname(&u)
        return withUnsafeBytes(of: &u.release) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
    }

    /// PRETTY_NAME of /etc/os-release ("Debian GNU/Linux 12 (bookworm)").
    static var osImage: String {
        let text = (try? String(contentsOfFile: "/etc/os-release", encoding: .utf8)) ?? ""
        for line in text.split(separator: "\n") where line.hasPrefix("PRETTY_NAME=") {
            return line.dropFirst("PRETTY_NAME=".count).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }
        return "Linux"
    }

    /// A file of /proc read whole. Foundation's String(contentsOfFile:) stops after about 4 KB of
    /// a file whose size reads as 0, which is every file there: /proc/mounts on a node with a
    /// few dozen containers is longer.
    static func readProc(_ path: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard let data = try? handle.readToEnd() else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    static func read(_ path: String) -> String? {
        (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static var machineID: String { read("/etc/machine-id") ?? read("/var/lib/dbus/machine-id") ?? "" }
    static var bootID: String { read("/proc/sys/kernel/random/boot_id") ?? "" }
    static var systemUUID: String { read("/sys/class/dmi/id/product_uuid")?.lowercased() ?? machineID }
}
