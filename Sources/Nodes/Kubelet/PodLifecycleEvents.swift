import APIMachinery
import CRI
import Client
import Foundation

/// Upstream's PLEG: every second the runtime's sandboxes and containers are listed and compared
/// with the last listing; a pod whose sandboxes or containers changed state is queued for a sync
/// (a container exited, a sandbox died). Runtime pods that no pod object of this node claims are
/// removed, once the pod informer has synced.
extension Kubelet {
    func relist() async {
        await pods.waitForSync()
        var previous: [String: String] = [:]
        while !Task.isCancelled {
            if let seen = try? await snapshot() {
                for (uid, entry) in seen where previous[uid] != entry.fingerprint {
                    queue.add(entry.key)
                }
                let known = Set(await pods.list(where: { $0["spec"]["nodeName"].string == nodeName }).compactMap { $0["metadata"]["uid"].string })
                let orphans = Set(seen.keys).subtracting(known)
                if !orphans.isEmpty { await removeOrphans(orphans) }
                previous = seen.mapValues(\.fingerprint)
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    /// Each runtime pod's key and a fingerprint of its sandboxes' and containers' states.
    func snapshot() async throws -> [String: (key: String, fingerprint: String)] {
        let sandboxes = try await runtime.runtime.listPodSandbox(.init()).items
        let containers = try await runtime.runtime.listContainers(.init()).containers
        var result: [String: (key: String, fingerprint: String)] = [:]
        for s in sandboxes.sorted(by: { $0.id < $1.id }) {
            guard let uid = s.labels[CRIKeys.podUID] else { continue }
            let key = "\(s.metadata.namespace)/\(s.metadata.name)"
            result[uid, default: (key, "")].fingerprint += "s:\(s.id):\(s.state.rawValue);"
        }
        for c in containers.sorted(by: { $0.id < $1.id }) {
            guard let uid = c.labels[CRIKeys.podUID], result[uid] != nil else { continue }
            result[uid]!.fingerprint += "c:\(c.id):\(c.state.rawValue);"
        }
        return result
    }
}
