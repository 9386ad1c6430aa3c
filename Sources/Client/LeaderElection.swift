import APIMachinery
import Foundation
import Logging

/// client-go's leader election on a coordination.k8s.io Lease: of the processes that run the same
/// component against one cluster, the one holding the Lease runs it. The holder renews every
/// retry period; one that cannot renew for the renew deadline stops leading; the others take the
/// Lease once it has gone unrenewed for its duration, measured on their own clock from when they
/// last saw it change (so clocks need not agree). A holder that stops cleanly gives the Lease up.
public struct LeaderElection: Sendable {
    public struct Configuration: Sendable {
        public var namespace: String
        public var name: String
        public var identity: String
        /// Upstream's defaults (kube-controller-manager, kube-scheduler): 15 s, 10 s, 2 s.
        public var leaseDuration: Duration
        public var renewDeadline: Duration
        public var retryPeriod: Duration

        public init(name: String, identity: String, namespace: String = "kube-system", leaseDuration: Duration = .seconds(15),
                    renewDeadline: Duration = .seconds(10), retryPeriod: Duration = .seconds(2)) {
            self.namespace = namespace
            self.name = name
            self.identity = identity
            self.leaseDuration = leaseDuration
            self.renewDeadline = renewDeadline
            self.retryPeriod = retryPeriod
        }
    }

    let leases: ResourceClient
    let configuration: Configuration
    let logger: Logger

    public init(client: Client, configuration: Configuration, logger: Logger) {
        leases = client.resource("coordination.k8s.io", "v1", "leases")
        self.configuration = configuration
        self.logger = logger
    }

    /// An identity as upstream makes one: the host's name and a unique suffix.
    public static func identity() -> String {
        "\(ProcessInfo.processInfo.hostName)_\(UUID().uuidString.lowercased())"
    }

    /// Until cancelled: waits to hold the Lease, runs `lead` while it is held (cancelling it once
    /// the Lease is lost), and campaigns again.
    public func run(_ lead: @escaping @Sendable () async -> Void) async {
        var observed = Observation()
        while !Task.isCancelled {
            // Campaign.
            while !Task.isCancelled, !(await tryAcquireOrRenew(&observed)) {
                try? await Task.sleep(for: jittered(configuration.retryPeriod))
            }
            if Task.isCancelled { break }
            logger.notice("leader election: \(configuration.identity) became leader of \(configuration.namespace)/\(configuration.name)")
            let leading = Task { await lead() }
            // Renew; stop leading once renewals have failed for the renew deadline.
            var lastRenewed = ContinuousClock.now
            while !Task.isCancelled {
                try? await Task.sleep(for: configuration.retryPeriod)
                if Task.isCancelled { break }
                if await tryAcquireOrRenew(&observed) {
                    lastRenewed = .now
                } else if ContinuousClock.now - lastRenewed >= configuration.renewDeadline || observed.holder != configuration.identity {
                    break
                }
            }
            leading.cancel()
            await leading.value
            if Task.isCancelled {
                await release()
                break
            }
            logger.notice("leader election: \(configuration.identity) lost \(configuration.namespace)/\(configuration.name)")
        }
    }

    /// What this process last saw of the Lease, and when (on its own clock).
    struct Observation {
        var holder: String?
        var renewTime: String?
        var at: ContinuousClock.Instant = .now
    }

    func jittered(_ d: Duration) -> Duration { d * Double.random(in: 1.0...1.2) }

    /// One attempt to take or keep the Lease, as client-go's tryAcquireOrRenew.
    func tryAcquireOrRenew(_ observed: inout Observation) async -> Bool {
        let now = APITime.formatMicro(Date())
        let seconds = configuration.leaseDuration.components.seconds
        let current: JSON
        do {
            current = try await leases.get(configuration.namespace, configuration.name)
        } catch let error where error.code == 404 {
            let lease: JSON = [
                "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                "metadata": ["name": .string(configuration.name), "namespace": .string(configuration.namespace)],
                "spec": ["holderIdentity": .string(configuration.identity), "leaseDurationSeconds": .int(seconds),
                         "acquireTime": .string(now), "renewTime": .string(now), "leaseTransitions": 0],
            ]
            guard (try? await leases.create(configuration.namespace, lease)) != nil else { return false }
            observed = Observation(holder: configuration.identity, renewTime: now, at: .now)
            return true
        } catch {
            return false
        }
        let spec = current["spec"]
        let holder = spec["holderIdentity"].string.flatMap { $0.isEmpty ? nil : $0 }
        if holder != observed.holder || spec["renewTime"].string != observed.renewTime {
            observed = Observation(holder: holder, renewTime: spec["renewTime"].string, at: .now)
        }
        let duration = spec["leaseDurationSeconds"].int.map { Duration.seconds($0) } ?? configuration.leaseDuration
        let held = holder != nil && holder != configuration.identity
        if held && ContinuousClock.now - observed.at < duration { return false }
        var lease = current
        if holder != configuration.identity {
            lease["spec"]["acquireTime"] = .string(now)
            lease["spec"]["leaseTransitions"] = .int((spec["leaseTransitions"].int ?? 0) + (holder == nil ? 0 : 1))
        }
        lease["spec"]["holderIdentity"] = .string(configuration.identity)
        lease["spec"]["leaseDurationSeconds"] = .int(seconds)
        lease["spec"]["renewTime"] = .string(now)
        guard (try? await leases.update(configuration.namespace, lease)) != nil else { return false }
        observed = Observation(holder: configuration.identity, renewTime: now, at: .now)
        return true
    }

    /// Gives the Lease up on a clean stop (client-go's ReleaseOnCancel), so another process need
    /// not wait out its duration.
    func release() async {
        guard var lease = try? await leases.get(configuration.namespace, configuration.name),
              lease["spec"]["holderIdentity"].string == configuration.identity else { return }
        let now = APITime.formatMicro(Date())
        lease["spec"]["holderIdentity"] = .null
        lease["spec"]["leaseDurationSeconds"] = 1
        lease["spec"]["renewTime"] = .string(now)
        lease["spec"]["acquireTime"] = .string(now)
        _ = try? await leases.update(configuration.namespace, lease)
    }
}
