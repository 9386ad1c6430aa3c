import APIMachinery
import Client

/// Keeps the EndpointSlice of every Service with a selector (discovery.k8s.io/v1, one slice of
/// up to 100 endpoints, owned by the service): each pod's IP with ready, serving and terminating
/// conditions, as upstream's endpointslice controller.
public struct EndpointSliceController: Controller {
    public static let managedBy = "endpointslice-controller.k8s.io"
    public let name = "endpointslice"
    public let queue = WorkQueue()
    let client: Client
    let services: Informer
    let pods: Informer
    let slices: Informer

    public init(client: Client, informers: InformerFactory) {
        self.client = client
        services = informers.informer("", "v1", "services")
        pods = informers.pods
        slices = informers.informer("discovery.k8s.io", "v1", "endpointslices")
    }

    public func register() async {
        await ServiceQueueing.wire(queue, services: services, pods: pods)
        let queue = queue
        await slices.addHandler { event in
            let slice = event.object
            guard slice["metadata"]["labels"]["endpointslice.kubernetes.io/managed-by"].string == Self.managedBy,
                  let service = slice["metadata"]["labels"]["kubernetes.io/service-name"].string,
                  let ns = slice["metadata"]["namespace"].string else { return }
            queue.add("\(ns)/\(service)")
        }
        await services.waitForSync()
        await pods.waitForSync()
        await slices.waitForSync()
    }

    public func reconcile(_ key: String) async throws {
        let (namespace, name) = Informer.split(key)
        let client = client.resource("discovery.k8s.io", "v1", "endpointslices")
        let mine = await slices.list(namespace: namespace) {
            $0["metadata"]["labels"]["kubernetes.io/service-name"].string == name
                && $0["metadata"]["labels"]["endpointslice.kubernetes.io/managed-by"].string == Self.managedBy
        }
        // A deleted service's slices go with it through their owner reference.
        guard let service = await services.get(key), !service["spec"]["selector"].stringMap.isEmpty else { return }
        let found = ServiceEndpoints.endpoints(service, pods: await pods.list(namespace: namespace)).prefix(100)
        let endpoints: [JSON] = found.map { e in
            var ep: JSON = ["addresses": [.string(e.ip)],
                            "conditions": ["ready": .bool(e.ready && !e.terminating), "serving": .bool(e.ready), "terminating": .bool(e.terminating)],
                            "targetRef": ServiceEndpoints.targetRef(e.pod)]
            if let node = e.pod["spec"]["nodeName"].string { ep["nodeName"] = .string(node) }
            if let hostname = e.hostname { ep["hostname"] = .string(hostname) }
            return ep
        }
        // Upstream's controller always writes a port's name, empty or not (kubectl describe reads it).
        let ports: JSON = .array((found.first?.ports ?? (service["spec"]["ports"].array ?? []).map { p in
            ["port": p["targetPort"].int.map { .int($0) } ?? p["port"], "protocol": p["protocol"].isNull ? "TCP" : p["protocol"], "name": p["name"]]
        }).map { p in
            var port = p
            if port["name"].isNull { port["name"] = "" }
            return port
        })
        var labels = service["metadata"]["labels"].object ?? [:]
        labels["kubernetes.io/service-name"] = .string(name)
        labels["endpointslice.kubernetes.io/managed-by"] = .string(Self.managedBy)
        let endpointsJSON: JSON = .array(endpoints)
        let labelsJSON: JSON = .object(labels)
        if let slice = mine.first {
            for extra in mine.dropFirst() {
                let (ns, n) = Informer.split(Informer.key(extra))
                do throws(StatusError) { try await client.delete(ns, n) } catch { if error.code != 404 { throw error } }
            }
            guard slice["endpoints"] != endpointsJSON || slice["ports"] != ports || slice["metadata"]["labels"] != labelsJSON else { return }
            try await client.modify(namespace, slice["metadata"]["name"].string ?? "") { s in
                s["endpoints"] = endpointsJSON
                s["ports"] = ports
                s["metadata"]["labels"] = labelsJSON
            }
            return
        }
        try await client.create(namespace, [
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": ["generateName": .string(name + "-"), "namespace": .string(namespace ?? ""), "labels": labelsJSON,
                         "ownerReferences": [ControllerRef.reference(to: service)]],
            "addressType": "IPv4", "endpoints": endpointsJSON, "ports": ports,
        ])
    }
}
