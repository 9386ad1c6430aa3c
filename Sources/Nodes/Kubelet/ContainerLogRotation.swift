import CRI
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The kubelet's container log manager: a running container's log that grew past `maxSize` is
/// renamed with the time (`0.log.20261202-081500`) and containerd told to reopen it, and of its
/// rotated files only the newest `maxFiles - 1` are kept, so a chatty pod cannot fill the disk.
/// Upstream's defaults: 10 MiB, 5 files, looked at every 10 seconds.
struct ContainerLogRotation: Sendable {
    var maxSize: UInt64 = 10 << 20
    var maxFiles = 5
    var interval: Duration = .seconds(10)

    func run(_ runtime: RuntimeConnection) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            await rotateAll(runtime)
        }
    }

    func rotateAll(_ runtime: RuntimeConnection) async {
        let running = (try? await runtime.runtime.listContainers(.with { $0.filter.state.state = .containerRunning }).containers) ?? []
        for container in running {
            guard let path = try? await runtime.runtime.containerStatus(.with { $0.containerID = container.id }).status.logPath,
                  !path.isEmpty else { continue }
            if rotate(path) { _ = try? await runtime.runtime.reopenContainerLog(.with { $0.containerID = container.id }) }
            prune(path)
        }
    }

    /// Renames the log when it is too large; whether it did (the runtime must then reopen it).
    func rotate(_ path: String, now: Date = Date()) -> Bool {
        guard let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? UInt64, size > maxSize else { return false }
        return rename(path, "\(path).\(Self.stamp(now))") == 0
    }

    /// Deletes the oldest rotated files beyond what is kept.
    func prune(_ path: String) {
        let url = URL(fileURLWithPath: path)
        let prefix = url.lastPathComponent + "."
        let dir = url.deletingLastPathComponent()
        let rotated = ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? [])
            .filter { $0.hasPrefix(prefix) }.sorted()
        for name in rotated.dropLast(max(0, maxFiles - 1)) { try? FileManager.default.removeItem(at: dir.appendingPathComponent(name)) }
    }

    /// `20261202-081500`, UTC: rotated files sort by age.
    static func stamp(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970), t = tm()
        gmtime_r(&seconds, &t)
        return String(format: "%04d%02d%02d-%02d%02d%02d", t.tm_year + 1900, t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec)
    }
}
