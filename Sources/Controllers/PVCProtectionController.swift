import APIMachinery
import Client
import Resources

/// Upstream's PVC protection controller: a claim being deleted keeps its
/// `kubernetes.io/pvc-protection` finalizer while a pod that has not ended uses it; once none
/// does, the finalizer goes and so does the claim.
public struct PVCProtectionController: Controller {
    public let name = "pvc-protection"
    public let queue = WorkQueue()
    let client: Client
    let claims: Informer
    let pods: Informer

    public init(client: Client, informers: InformerFactory) {
        self.client = client
        claims = informers.informer("", "v1", "persistentvolumeclaims")
        pods = informers.pods
    }

    public func register() async {
        let queue = queue
        await claims.addHandler { event in
            if case .deleted = event { return }
            if !event.object["metadata"]["deletionTimestamp"].isNull { queue.add(Informer.key(event.object)) }
        }
        // A pod that ends or goes may be the last user of a claim being deleted.
        await pods.addHandler { event in
            let pod = event.object
            guard let ns = pod["metadata"]["namespace"].string else { return }
            for v in pod["spec"]["volumes"].array ?? [] {
                if let claim = v["persistentVolumeClaim"]["claimName"].string { queue.add("\(ns)/\(claim)") }
            }
        }
    }

    public func reconcile(_ key: String) async throws {
        guard let claim = await claims.get(key), !claim["metadata"]["deletionTimestamp"].isNull,
              (claim["metadata"]["finalizers"].array ?? []).contains(.string(ProtectionFinalizers.claim)) else { return }
        let (namespace, name) = Informer.split(key)
        let inUse = await pods.list(namespace: namespace) { pod in
            let phase = pod["status"]["phase"].string
            return phase != "Succeeded" && phase != "Failed"
                && (pod["spec"]["volumes"].array ?? []).contains { $0["persistentVolumeClaim"]["claimName"].string == name }
        }
        guard inUse.isEmpty else { return }
        do throws(StatusError) {
            try await client.resource("", "v1", "persistentvolumeclaims").modify(namespace, name) { c in
                c["metadata"]["finalizers"] = .array((c["metadata"]["finalizers"].array ?? []).filter { $0 != .string(ProtectionFinalizers.claim) })
            }
        } catch {
            if error.code != 404 { throw error }
        }
    }
}
