import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive advisory lock on a folder (flock on its `.lock` file), held across processes
/// until released or the process ends. Brief by design: callers hold it for a few file writes.
struct DirectoryLock {
    private let fd: Int32

    init(_ dir: URL) throws {
        let path = dir.appendingPathComponent(".lock").path
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path]) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else {
                close(fd)
                throw CocoaError(.fileLocking, userInfo: [NSFilePathErrorKey: path])
            }
        }
    }

    func release() {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
