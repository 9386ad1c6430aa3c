import Foundation
import Localkube

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A background process of a profile (localkube, the profile's own etcd): started detached from
/// the terminal (its own session, stdin from /dev/null, output appended to its log), known by its
/// pid file.
enum Daemon {
    static func spawn(_ args: [String], log: URL, pidFile: URL, what: String) throws(ClusterError) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        var attributes = posix_spawnattr_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawnattr_init(&attributes)
        defer {
            posix_spawn_file_actions_destroy(&actions)
            posix_spawnattr_destroy(&attributes)
        }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log.path, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        #if canImport(Glibc)
        // POSIX_SPAWN_SETSID: the child leads its own session, so closing the terminal spares it.
        posix_spawnattr_setflags(&attributes, Int16(0x80))
        #endif
        var pid: pid_t = 0
        let cArgs = args.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        let rc = args[0].hasPrefix("/") ? posix_spawn(&pid, args[0], &actions, &attributes, cArgs, environ)
                                        : posix_spawnp(&pid, args[0], &actions, &attributes, cArgs, environ)
        guard rc == 0 else { throw ClusterError("cannot start \(what) (\(args[0])): \(String(cString: strerror(rc)))") }
        do {
            try AtomicFile.write("\(pid)\n", to: pidFile, mode: 0o600)
        } catch {
            kill(pid, SIGTERM)
            throw ClusterError("cannot write \(pidFile.path)")
        }
        return pid
    }

    /// The pid of a process that is alive, if the pid file names one.
    static func runningPID(_ pidFile: URL) -> pid_t? {
        guard let text = try? String(contentsOf: pidFile, encoding: .utf8),
              let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0 else { return nil }
        return hasExited(pid) ? nil : pid
    }

    /// Whether the process has exited (reaped if it is our child). An exited daemon whose
    /// parent is gone may linger as a zombie until init reaps it: that counts as exited too.
    static func hasExited(_ pid: pid_t) -> Bool {
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid { return true }
        if kill(pid, 0) != 0 && errno == ESRCH { return true }
        #if os(Linux)
        // /proc/PID/stat: "PID (comm) STATE ..."; Z is a zombie, X dead.
        if let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
           let close = stat.lastIndex(of: ")") {
            let state = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first
            return state == "Z" || state == "X"
        }
        #endif
        return false
    }

    /// SIGTERM, then waits for the graceful shutdown (SIGKILL after `timeout`); removes the pid
    /// file. False when nothing was running.
    static func stop(pidFile: URL, timeout: Duration) async -> Bool {
        guard let pid = runningPID(pidFile) else {
            try? FileManager.default.removeItem(at: pidFile)
            return false
        }
        kill(pid, SIGTERM)
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline, !hasExited(pid) { try? await Task.sleep(for: .milliseconds(10)) }
        if !hasExited(pid) { kill(pid, SIGKILL) }
        try? FileManager.default.removeItem(at: pidFile)
        return true
    }
}
