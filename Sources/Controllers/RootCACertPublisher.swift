import APIMachinery
import Client

/// Publishes the cluster CA as the `kube-root-ca.crt` ConfigMap in every namespace (and restores
/// it if changed or deleted), so pods can verify the API server, as upstream's publisher does.
public struct RootCACertPublisher: Controller {
    public static let configMapName = "kube-root-ca.crt"
    static let description = "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters."

    public let name = "root-ca-cert-publisher"
    public let queue = WorkQueue()
    let client: Client
    let caPEM: String
    let namespaces: Informer
    let configMaps: Informer

    public init(client: Client, informers: InformerFactory, caPEM: String) {
        self.client = client
        self.caPEM = caPEM
        namespaces = informers.informer("", "v1", "namespaces")
        configMaps = informers.informer("", "v1", "configmaps", name: Self.configMapName)
    }

    public func register() async {
        let queue = queue
        await namespaces.addHandler { event in
            if case .deleted = event { return }
            queue.add(Informer.key(event.object))
        }
        await configMaps.addHandler { event in
            let cm = event.object
            if cm["metadata"]["name"].string == Self.configMapName, let ns = cm["metadata"]["namespace"].string { queue.add(ns) }
        }
        await namespaces.waitForSync()
        await configMaps.waitForSync()
    }

    public func reconcile(_ namespace: String) async throws {
        guard let ns = await namespaces.get(namespace), ns["status"]["phase"] != "Terminating", ns["metadata"]["deletionTimestamp"].isNull else { return }
        let configMaps = client.resource("", "v1", "configmaps")
        let data: JSON = ["ca.crt": .string(caPEM)]
        if let current = await self.configMaps.get("\(namespace)/\(Self.configMapName)") {
            guard current["data"] != data || current["metadata"]["annotations"]["kubernetes.io/description"].string != Self.description else { return }
            try await configMaps.modify(namespace, Self.configMapName) { cm in
                cm["data"] = data
                cm["metadata"]["annotations"]["kubernetes.io/description"] = .string(Self.description)
            }
            return
        }
        do throws(StatusError) {
            try await configMaps.create(namespace, [
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": ["name": .string(Self.configMapName), "namespace": .string(namespace),
                             "annotations": ["kubernetes.io/description": .string(Self.description)]],
                "data": data])
        } catch {
            if error.code != 409 && error.code != 403 && error.code != 404 { throw error }
        }
    }
}
