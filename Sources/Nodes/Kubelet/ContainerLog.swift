import Foundation

/// A container's log file as CRI runtimes write it: one line per write, `TIME STREAM TAG TEXT`,
/// where TAG is F for a full line and P for part of one that continues on the next.
enum ContainerLog {
    /// The text of the last `lines` lines (at most `bytes` bytes) of the log at `path`.
    static func tail(_ path: String, lines: Int, bytes: Int) -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { return "" }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        let window: UInt64 = UInt64(max(bytes * 4, 16384))
        try? handle.seek(toOffset: size > window ? size - window : 0)
        let data = (try? handle.readToEnd()) ?? Data()
        var text = ""
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false)
            guard fields.count == 4 else { continue }
            text += fields[3] + (fields[2] == "P" ? "" : "\n")
        }
        let kept = text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines + 1).joined(separator: "\n")
        return String(kept.suffix(bytes))
    }
}
