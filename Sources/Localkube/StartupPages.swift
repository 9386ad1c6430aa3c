import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Gives back the executable's pages that only starting up touched. Starting the API server,
/// twenty controllers, the scheduler and a node agent runs code and reads data (upstream's schemas)
/// spread over the whole binary, and every first touch maps the pages around it: about 37 MB of
/// the executable stays resident, against 5 MB of heap. Once the cluster has started, the kernel
/// is asked to reclaim those clean file pages (MADV_PAGEOUT); what the running cluster uses is
/// faulted back in from the file as it is touched. Linux 5.4 and later; elsewhere nothing happens.
enum StartupPages {
    static func release() {
        #if os(Linux)
        guard let maps = try? String(contentsOfFile: "/proc/self/maps", encoding: .utf8),
              let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return }
        let pageout: Int32 = 21  // MADV_PAGEOUT
        for line in maps.split(separator: "\n") where line.hasSuffix(executable) {
            // "start-end perms offset dev inode path": read-only and executable mappings only,
            // whose pages are clean copies of the file (never the writable data).
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6, !fields[1].contains("w") else { continue }
            let range = fields[0].split(separator: "-")
            guard range.count == 2, let start = UInt(range[0], radix: 16), let end = UInt(range[1], radix: 16), end > start,
                  let address = UnsafeMutableRawPointer(bitPattern: start) else { continue }
            _ = madvise(address, Int(end - start), pageout)
        }
        #endif
    }
}
