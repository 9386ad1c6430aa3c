import APIMachinery
import Client
import Foundation

/// Keeps an Endpoints object beside every Service with a selector: ready pods' IPs in
/// addresses, the others in notReadyAddresses, with the service's ports resolved, as upstream's
/// endpoints controller.
public struct EndpointsController: Controller {
    public let name = "endpoints"
    public let queue = WorkQueue()
    let client: Client
    let services: Informer
    let pods: Informer
    let endpoints: Informer

    public init(client: Client, informers: InformerFactory) {
        self.client = client
        services = informers.informer("", "v1", "services")
        pods = informers.pods
        endpoints = informers.informer("", "v1", "endpoints")
    }

    public func register() async {
        await ServiceQueueing.wire(queue, services: services, pods: pods)
        let queue = queue
        await endpoints.addHandler { event in queue.add(Informer.key(event.object)) }
        await services.waitForSync()
        await pods.waitForSync()
        await endpoints.waitForSync()
    }

    public func reconcile(_ key: String) async throws {
        let (namespace, name) = Informer.split(key)
        let client = client.resource("", "v1", "endpoints")
        let current = await endpoints.get(key)
        guard let service = await services.get(key) else {
            // The service is gone: so are its endpoints (ones it manages; the API server's own stay).
            if current != nil, key != "default/kubernetes" {
                do throws(StatusError) { try await client.delete(namespace, name) } catch { if error.code != 404 { throw error } }
            }
            return
        }
        guard !service["spec"]["selector"].stringMap.isEmpty else { return }
        let found = ServiceEndpoints.endpoints(service, pods: await pods.list(namespace: namespace))
        var subsets: [JSON] = []
        // Pods whose resolved ports agree share a subset, as upstream repacks them.
        var groups: [[JSON]: (ready: [JSON], notReady: [JSON])] = [:]
        var order: [[JSON]] = []
        for e in found where !e.ports.isEmpty && !e.terminating {
            var address: JSON = ["ip": .string(e.ip), "targetRef": ServiceEndpoints.targetRef(e.pod)]
            if let hostname = e.hostname { address["hostname"] = .string(hostname) }
            if let node = e.pod["spec"]["nodeName"].string { address["nodeName"] = .string(node) }
            if groups[e.ports] == nil { order.append(e.ports) }
            if e.ready { groups[e.ports, default: ([], [])].ready.append(address) } else { groups[e.ports, default: ([], [])].notReady.append(address) }
        }
        for ports in order {
            guard let g = groups[ports] else { continue }
            var subset: JSON = ["ports": .array(ports)]
            if !g.ready.isEmpty { subset["addresses"] = .array(g.ready) }
            if !g.notReady.isEmpty { subset["notReadyAddresses"] = .array(g.notReady) }
            subsets.append(subset)
        }
        let subsetsJSON: JSON = subsets.isEmpty ? .null : .array(subsets)
        let labels = service["metadata"]["labels"]
        if let current {
            guard current["subsets"] != subsetsJSON || current["metadata"]["labels"] != labels else { return }
            try await client.modify(namespace, name) { e in
                e["subsets"] = subsetsJSON
                e["metadata"]["labels"] = labels
                e["metadata"]["annotations"]["endpoints.kubernetes.io/last-change-trigger-time"] = .string(APITime.format(Date()))
            }
        } else {
            var object: JSON = ["apiVersion": "v1", "kind": "Endpoints", "metadata": ["name": .string(name), "namespace": .string(namespace ?? "")]]
            if !labels.isNull { object["metadata"]["labels"] = labels }
            if !subsetsJSON.isNull { object["subsets"] = subsetsJSON }
            do throws(StatusError) { try await client.create(namespace, object) } catch { if error.code != 409 { throw error } }
        }
    }
}

/// Both endpoint controllers work per service: a service change queues it, and a pod change
/// queues every service in the pod's namespace whose selector matches it now or did before.
enum ServiceQueueing {
    static func wire(_ queue: WorkQueue, services: Informer, pods: Informer) async {
        await services.addHandler { event in queue.add(Informer.key(event.object)) }
        await pods.addHandler { event in
            let (old, new): (JSON?, JSON) = switch event {
            case .updated(let o, let n): (o, n)
            default: (nil, event.object)
            }
            // Only what endpoints show matters: IP, readiness, labels, deletion.
            if let old, old["status"]["podIP"] == new["status"]["podIP"], ControllerRef.isReady(old) == ControllerRef.isReady(new),
               old["metadata"]["labels"] == new["metadata"]["labels"], old["metadata"]["deletionTimestamp"] == new["metadata"]["deletionTimestamp"],
               old["status"]["phase"] == new["status"]["phase"] { return }
            guard let ns = new["metadata"]["namespace"].string else { return }
            Task {
                for service in await services.list(namespace: ns)
                where ServiceEndpoints.selects(service, new) || old.map({ ServiceEndpoints.selects(service, $0) }) == true {
                    queue.add(Informer.key(service))
                }
            }
        }
    }
}
