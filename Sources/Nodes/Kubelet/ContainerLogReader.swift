import APIMachinery
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a CRI container log file (`TIME STREAM TAG TEXT` lines, TAG F for a full line and P for
/// part of one) the way upstream's kubelet serves it: the text of each line, from sinceTime on,
/// the last tailLines lines, with timestamps when asked, cut at limitBytes; with follow, new lines
/// as they are written (a rotated file is reopened) until the container is no longer running.
struct ContainerLogReader: Sendable {
    let path: String
    let options: PodLogOptions
    /// Whether the container still runs: following ends once it does not and the file is read.
    let isRunning: @Sendable () async -> Bool

    /// How often a followed log is looked at for new lines, and the container for its end.
    static let pollInterval: Duration = .milliseconds(15)
    static let runningCheckInterval: Duration = .milliseconds(300)

    func stream() -> AsyncThrowingStream<[UInt8], any Error> {
        let (stream, continuation) = AsyncThrowingStream<[UInt8], any Error>.makeStream()
        let task = Task {
            do {
                try await read { continuation.yield($0) }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    func read(_ emit: ([UInt8]) -> Void) async throws {
        // No file: the runtime has not written a line yet, or the container was removed.
        var opened = LogFile(path: path)
        while opened == nil {
            guard options.follow, await isRunning() else { return }
            try await Task.sleep(for: Self.pollInterval)
            opened = LogFile(path: path)
        }
        guard var file = opened else { return }
        let cutoff = options.sinceTime ?? options.sinceSeconds.map { Date().addingTimeInterval(-Double($0)) }
        var remaining = options.limitBytes ?? Int.max
        func write(_ line: CRILogLine) -> Bool {
            if let cutoff, let time = line.time, time < cutoff { return true }
            var bytes: [UInt8] = []
            if options.timestamps { bytes += line.timestamp + [UInt8(ascii: " ")] }
            bytes += line.content
            if !line.partial { bytes.append(UInt8(ascii: "\n")) }
            if bytes.count >= remaining {
                emit(Array(bytes.prefix(remaining)))
                remaining = 0
                return false
            }
            remaining -= bytes.count
            emit(bytes)
            return true
        }

        var lines = file.readLines()
        if let tail = options.tailLines { lines = Array(lines.suffix(tail)) }
        for line in lines where !write(line) { return }
        guard options.follow else { return }

        let clock = ContinuousClock()
        var lastCheck = clock.now
        while !Task.isCancelled {
            let more = file.readLines()
            for line in more where !write(line) { return }
            if !more.isEmpty { continue }
            if file.wasRotated() {
                // The kubelet rotated the log: what the old file still held is read; the new one follows.
                for line in file.readLines(flushPartial: true) where !write(line) { return }
                guard let reopened = LogFile(path: path) else { try await Task.sleep(for: Self.pollInterval); continue }
                file = reopened
                continue
            }
            if clock.now - lastCheck >= Self.runningCheckInterval {
                lastCheck = clock.now
                if await !isRunning() {
                    for line in file.readLines(flushPartial: true) where !write(line) { return }
                    return
                }
            }
            try await Task.sleep(for: Self.pollInterval)
        }
    }
}

/// One line of a CRI log.
struct CRILogLine: Equatable {
    var timestamp: [UInt8]
    var time: Date?
    var partial: Bool
    var content: [UInt8]

    /// `2016-10-06T00:17:09.669794202Z stdout F text`; nil for what is not such a line.
    init?(_ raw: ArraySlice<UInt8>) {
        let space = UInt8(ascii: " ")
        guard let first = raw.firstIndex(of: space),
              let second = raw[(first + 1)...].firstIndex(of: space) else { return nil }
        let tagStart = second + 1
        guard tagStart < raw.endIndex else { return nil }
        let tagEnd = raw[tagStart...].firstIndex(of: space) ?? raw.endIndex
        timestamp = Array(raw[raw.startIndex..<first])
        time = Self.parseTime(timestamp)
        partial = raw[tagStart..<tagEnd].first == UInt8(ascii: "P")
        content = tagEnd < raw.endIndex ? Array(raw[(tagEnd + 1)...]) : []
    }

    /// RFC 3339 with nanoseconds, as containerd writes it.
    static func parseTime(_ bytes: [UInt8]) -> Date? { APITime.parse(String(decoding: bytes, as: UTF8.self)) }
}

/// An open log file read line by line from where the last read stopped.
struct LogFile {
    let path: String
    let handle: FileHandle
    let inode: UInt64
    var pending: [UInt8] = []

    init?(path: String) {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        var st = stat()
        guard fstat(handle.fileDescriptor, &st) == 0 else { return nil }
        self.path = path
        self.handle = handle
        inode = UInt64(st.st_ino)
    }

    /// The whole lines written since the last read; the last, unfinished one waits for its end
    /// unless `flushPartial`.
    mutating func readLines(flushPartial: Bool = false) -> [CRILogLine] {
        if let data = try? handle.readToEnd(), !data.isEmpty { pending += data }
        var lines: [CRILogLine] = []
        var start = pending.startIndex
        while let newline = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
            if let line = CRILogLine(pending[start..<newline]) { lines.append(line) }
            start = newline + 1
        }
        pending.removeSubrange(pending.startIndex..<start)
        if flushPartial, !pending.isEmpty {
            if let line = CRILogLine(pending[...]) { lines.append(line) }
            pending = []
        }
        return lines
    }

    /// Whether the path now names another file (the log was rotated) or none.
    func wasRotated() -> Bool {
        var st = stat()
        return stat(path, &st) != 0 || UInt64(st.st_ino) != inode
    }
}
