import Foundation

/// What the kubelet remembers between syncs of a pod: why a container is waiting (upstream's
/// reason cache: ErrImagePull, CrashLoopBackOff, CreateContainerConfigError, ...), the crash-loop
/// and image-pull back-offs, and whether the sandbox image has been made sure of.
actor KubeletState {
    struct Waiting: Sendable, Equatable {
        var reason: String
        var message: String
        /// For image pulls: when the last pull failed, why, and when the next may be tried.
        var failedAt: Date?
        var cause = ""
        var retryAfter: Double?

        init(reason: String, message: String) {
            self.reason = reason
            self.message = message
        }
    }

    var waiting: [String: Waiting] = [:]
    var crashLoop = Backoff()
    var imagePulls = Backoff()
    var sandboxImageReady = false
    /// Pods whose containers have been told to stop (so Killing is recorded once).
    var killing: Set<String> = []

    static func key(_ podUID: String, _ container: String) -> String { "\(podUID)/\(container)" }

    func waiting(_ podUID: String, _ container: String) -> Waiting? { waiting[Self.key(podUID, container)] }
    func setWaiting(_ podUID: String, _ container: String, _ value: Waiting?) { waiting[Self.key(podUID, container)] = value }

    /// Whether the container's restart must wait; if not, the back-off grows for next time.
    func crashLoopDelay(_ podUID: String, _ container: String, finishedAt: Date) -> Double? {
        let key = Self.key(podUID, container)
        if crashLoop.isBackingOff(key, since: finishedAt) { return crashLoop.delay(key) - Date().timeIntervalSince(finishedAt) }
        crashLoop.next(key)
        return nil
    }

    func crashLoopCurrent(_ podUID: String, _ container: String) -> Double { crashLoop.delay(Self.key(podUID, container)) }

    /// The image-pull back-off of one image for one pod: remaining seconds, or nil if a pull may go.
    func pullDelay(_ podUID: String, _ image: String, failedAt: Date?) -> Double? {
        let key = Self.key(podUID, image)
        guard let failedAt, imagePulls.isBackingOff(key, since: failedAt) else { return nil }
        return imagePulls.delay(key) - Date().timeIntervalSince(failedAt)
    }

    func pullFailed(_ podUID: String, _ image: String) { imagePulls.next(Self.key(podUID, image)) }
    func pullSucceeded(_ podUID: String, _ image: String) { imagePulls.reset(Self.key(podUID, image)) }

    func markSandboxImageReady() { sandboxImageReady = true }

    /// True the first time a pod's containers are killed (for the Killing events).
    func startKilling(_ podUID: String) -> Bool { killing.insert(podUID).inserted }

    func forget(podUID: String) {
        killing.remove(podUID)
        waiting = waiting.filter { !$0.key.hasPrefix(podUID + "/") }
    }
}
