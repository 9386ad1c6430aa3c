import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a volume's files the way upstream's AtomicWriter does, so a container never sees half
/// an update: the files go into a fresh hidden folder, `..data` is switched to it with one
/// rename, and each visible name is a symlink through `..data`. Unchanged content is left alone.
enum AtomicWriter {
    struct File: Equatable {
        var contents: Data
        var mode: Int
    }

    /// Makes `directory` hold exactly `payload` (paths relative to it); true if anything changed.
    @discardableResult
    static func write(_ payload: [String: File], to directory: URL) throws -> Bool {
        let files = FileManager.default
        try files.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let data = directory.appendingPathComponent("..data")
        if current(data) == payload { return false }

        let stamp = "..\(Int64(Date().timeIntervalSince1970 * 1e6))"
        let fresh = directory.appendingPathComponent(stamp)
        try files.createDirectory(at: fresh, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        for (path, file) in payload {
            let url = fresh.appendingPathComponent(path)
            try files.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
            try file.contents.write(to: url)
            try files.setAttributes([.posixPermissions: file.mode], ofItemAtPath: url.path)
        }
        let old = try? files.destinationOfSymbolicLink(atPath: data.path)
        let link = directory.appendingPathComponent("..data_tmp")
        try? files.removeItem(at: link)
        try files.createSymbolicLink(atPath: link.path, withDestinationPath: stamp)
        guard rename(link.path, data.path) == 0 else { throw CocoaError(.fileWriteUnknown) }

        let visible = Set(payload.keys.map { String($0.split(separator: "/").first ?? "") })
        for name in visible where (try? files.destinationOfSymbolicLink(atPath: directory.appendingPathComponent(name).path)) == nil {
            try files.createSymbolicLink(atPath: directory.appendingPathComponent(name).path, withDestinationPath: "..data/\(name)")
        }
        for name in (try? files.contentsOfDirectory(atPath: directory.path)) ?? [] where !name.hasPrefix("..") && !visible.contains(name) {
            try? files.removeItem(at: directory.appendingPathComponent(name))
        }
        if let old, old != stamp { try? files.removeItem(at: directory.appendingPathComponent(old)) }
        return true
    }

    /// What `..data` holds now.
    static func current(_ data: URL) -> [String: File]? {
        let files = FileManager.default
        guard let target = try? files.destinationOfSymbolicLink(atPath: data.path) else { return nil }
        let root = data.deletingLastPathComponent().appendingPathComponent(target)
        guard let walker = files.enumerator(atPath: root.path) else { return nil }
        var found: [String: File] = [:]
        while let path = walker.nextObject() as? String {
            let url = root.appendingPathComponent(path)
            var isDirectory: ObjCBool = false
            guard files.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue,
                  let contents = try? Data(contentsOf: url),
                  let mode = (try? files.attributesOfItem(atPath: url.path))?[.posixPermissions] as? Int else { continue }
            found[path] = File(contents: contents, mode: mode)
        }
        return found
    }
}
