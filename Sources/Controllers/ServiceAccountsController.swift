import APIMachinery
import Client

/// Gives every active namespace its `default` service account, and puts it back if deleted,
/// as upstream's serviceaccount controller.
public struct ServiceAccountsController: Controller {
    public let name = "serviceaccount"
    public let queue = WorkQueue()
    let client: Client
    let namespaces: Informer
    let accounts: Informer

    public init(client: Client, informers: InformerFactory) {
        self.client = client
        namespaces = informers.informer("", "v1", "namespaces")
        accounts = informers.informer("", "v1", "serviceaccounts")
    }

    public func register() async {
        let queue = queue
        await namespaces.addHandler { event in
            if case .deleted = event { return }
            queue.add(Informer.key(event.object))
        }
        await accounts.addHandler { event in
            if case .deleted(let sa) = event, sa["metadata"]["name"] == "default", let ns = sa["metadata"]["namespace"].string { queue.add(ns) }
        }
        await namespaces.waitForSync()
        await accounts.waitForSync()
    }

    public func reconcile(_ namespace: String) async throws {
        guard let ns = await namespaces.get(namespace), ns["status"]["phase"] != "Terminating", ns["metadata"]["deletionTimestamp"].isNull,
              await accounts.get("\(namespace)/default") == nil else { return }
        do throws(StatusError) {
            try await client.resource("", "v1", "serviceaccounts").create(namespace, [
                "apiVersion": "v1", "kind": "ServiceAccount", "metadata": ["name": "default", "namespace": .string(namespace)]])
        } catch {
            // Exists already, or the namespace is going away.
            if error.code != 409 && error.code != 403 && error.code != 404 { throw error }
        }
    }
}
