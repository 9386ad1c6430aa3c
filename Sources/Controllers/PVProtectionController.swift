import APIMachinery
import Client
import Resources

/// Upstream's PV protection controller: a volume being deleted keeps its
/// `kubernetes.io/pv-protection` finalizer while it is bound to a claim.
public struct PVProtectionController: Controller {
    public let name = "pv-protection"
    public let queue = WorkQueue()
    let client: Client
    let volumes: Informer

    public init(client: Client, informers: InformerFactory) {
        self.client = client
        volumes = informers.informer("", "v1", "persistentvolumes")
    }

    public func register() async {
        let queue = queue
        await volumes.addHandler { event in
            if case .deleted = event { return }
            if !event.object["metadata"]["deletionTimestamp"].isNull { queue.add(Informer.key(event.object)) }
        }
    }

    public func reconcile(_ name: String) async throws {
        guard let pv = await volumes.get(name), !pv["metadata"]["deletionTimestamp"].isNull, pv["status"]["phase"] != "Bound",
              (pv["metadata"]["finalizers"].array ?? []).contains(.string(ProtectionFinalizers.volume)) else { return }
        do throws(StatusError) {
            try await client.resource("", "v1", "persistentvolumes").modify(nil, name) { v in
                v["metadata"]["finalizers"] = .array((v["metadata"]["finalizers"].array ?? []).filter { $0 != .string(ProtectionFinalizers.volume) })
            }
        } catch {
            if error.code != 404 { throw error }
        }
    }
}
