import APIMachinery
import Client

/// The load balancer of a local cluster, as `minikube tunnel` gives it: a LoadBalancer Service's
/// ingress is its cluster IP, which the host reaches (the service CIDR is routed to the cluster's
/// bridge) and where the service proxy answers on its ports. No two services contend for an
/// address. A service that stops being a LoadBalancer loses its ingress.
public struct ServiceLoadBalancerController: Controller {
    public let name = "service-lb"
    public let queue = WorkQueue()
    let client: Client
    let services: Informer

    public init(client: Client, informers: InformerFactory) {
        self.client = client
        services = informers.informer("", "v1", "services")
    }

    public func register() async {
        let queue = queue
        await services.addHandler { event in queue.add(Informer.key(event.object)) }
        await services.waitForSync()
    }

    public func reconcile(_ key: String) async throws {
        guard let service = await services.get(key) else { return }
        let (namespace, name) = Informer.split(key)
        let spec = service["spec"]
        let clusterIP = spec["clusterIP"].string ?? ""
        let ingress: JSON = spec["type"].string == "LoadBalancer" && !clusterIP.isEmpty && clusterIP != "None"
            ? [["ip": .string(clusterIP), "ipMode": "VIP"]] : []
        let current = service["status"]["loadBalancer"]["ingress"]
        guard current != ingress && !(current.isNull && ingress == []) else { return }
        try await client.resource("", "v1", "services").modify(namespace, name, status: true) { s in
            s["status"]["loadBalancer"] = ingress == [] ? [:] : ["ingress": ingress]
        }
    }
}
