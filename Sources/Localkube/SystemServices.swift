import APIMachinery
import Foundation
import Registry
import Resources

/// A Service whose endpoint is a part of localkube itself rather than a pod: the `kubernetes`
/// Service (this API server) and `kube-dns` (the cluster DNS), kept with their Endpoints and
/// EndpointSlice as upstream's apiserver keeps `kubernetes`: made at start, corrected when the
/// port or address moves.
struct SystemService {
    struct Port {
        var name: String
        var port: Int
        var targetPort: Int
        var proto = "TCP"
    }

    var namespace: String
    var name: String
    var labels: JSON
    var clusterIP: String
    var ports: [Port]
    /// Where the component listens; nil leaves the service without endpoints (no node to reach it on).
    var address: String?

    static func kubernetes(address: String, port: Int, clusterIP: String) -> SystemService {
        SystemService(namespace: "default", name: "kubernetes", labels: ["component": "apiserver", "provider": "kubernetes"],
                      clusterIP: clusterIP, ports: [Port(name: "https", port: 443, targetPort: port)], address: address)
    }

    /// The cluster DNS, named and labelled as on kubeadm, kind and minikube.
    static func kubeDNS(address: String?, clusterIP: String, dnsPort: Int, metricsPort: Int) -> SystemService {
        SystemService(namespace: "kube-system", name: "kube-dns",
                      labels: ["k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true", "kubernetes.io/name": "CoreDNS"],
                      clusterIP: clusterIP,
                      ports: [Port(name: "dns", port: 53, targetPort: dnsPort, proto: "UDP"), Port(name: "dns-tcp", port: 53, targetPort: dnsPort),
                              Port(name: "metrics", port: 9153, targetPort: metricsPort)],
                      address: address)
    }

    func reconcile(_ registry: Registry) async {
        guard let svcDef = registry.catalog.lookup(group: "", version: "v1", plural: "services"),
              let epDef = registry.catalog.lookup(group: "", version: "v1", plural: "endpoints") else { return }
        let servicePorts: JSON = .array(ports.map { ["name": .string($0.name), "port": .int(Int64($0.port)), "protocol": .string($0.proto),
                                                      "targetPort": .int(Int64($0.targetPort))] })
        let endpointPorts: JSON = .array(ports.map { ["name": .string($0.name), "port": .int(Int64($0.targetPort)), "protocol": .string($0.proto)] })
        let service: JSON = [
            "apiVersion": "v1", "kind": "Service", "metadata": ["name": .string(name), "namespace": .string(namespace), "labels": labels],
            "spec": ["type": "ClusterIP", "clusterIP": .string(clusterIP), "clusterIPs": [.string(clusterIP)], "ports": servicePorts,
                     "sessionAffinity": "None", "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack"],
        ]
        await createOrPatch(registry, svcDef, service) { $0["spec"]["ports"] = servicePorts }
        guard let address else { return }
        let serviceName = name
        if let sliceDef = registry.catalog.lookup(group: "discovery.k8s.io", version: "v1", plural: "endpointslices") {
            let endpoints: JSON = [["addresses": [.string(address)], "conditions": ["ready": true]]]
            let slice: JSON = [
                "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                "metadata": ["name": .string(name), "namespace": .string(namespace), "labels": ["kubernetes.io/service-name": .string(serviceName)]],
                "addressType": "IPv4", "endpoints": endpoints, "ports": endpointPorts,
            ]
            await createOrPatch(registry, sliceDef, slice) { e in
                e["endpoints"] = endpoints
                e["ports"] = endpointPorts
            }
        }
        let subsets: JSON = [["addresses": [["ip": .string(address)]], "ports": endpointPorts]]
        let endpoints: JSON = ["apiVersion": "v1", "kind": "Endpoints", "metadata": ["name": .string(name), "namespace": .string(namespace), "labels": labels],
                               "subsets": subsets]
        await createOrPatch(registry, epDef, endpoints) { $0["subsets"] = subsets }
    }

    func createOrPatch(_ registry: Registry, _ def: ResourceDefinition, _ object: JSON, _ change: @escaping @Sendable (inout JSON) -> Void) async {
        let options = WriteOptions(fieldManager: "kube-apiserver")
        guard (try? await registry.create(def, namespace: namespace, body: object, options: options)) == nil else { return }
        _ = try? await registry.patch(def, namespace: namespace, name: name, options: options) { o throws(StatusError) in
            var o = o
            change(&o)
            return o
        }
    }
}
