import APIMachinery
import Foundation
import Registry

/// The `kubernetes` Service in `default` (the service CIDR's first address, port 443) and its Endpoints, pointing at this API
/// server, as upstream's apiserver keeps them: made at start, corrected when the port moves.
enum KubernetesService {
    static func reconcile(_ registry: Registry, address: String, port: Int, clusterIP: String) async {
        guard let svcDef = registry.catalog.lookup(group: "", version: "v1", plural: "services"),
              let epDef = registry.catalog.lookup(group: "", version: "v1", plural: "endpoints") else { return }
        let labels: JSON = ["component": "apiserver", "provider": "kubernetes"]
        let ports: JSON = [["name": "https", "port": 443, "protocol": "TCP", "targetPort": .int(Int64(port))]]
        let service: JSON = [
            "apiVersion": "v1", "kind": "Service", "metadata": ["name": "kubernetes", "namespace": "default", "labels": labels],
            "spec": ["type": "ClusterIP", "clusterIP": .string(clusterIP), "clusterIPs": [.string(clusterIP)], "ports": ports,
                     "sessionAffinity": "None", "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack"],
        ]
        let subsets: JSON = [["addresses": [["ip": .string(address)]], "ports": [["name": "https", "port": .int(Int64(port)), "protocol": "TCP"]]]]
        let options = WriteOptions(fieldManager: "kube-apiserver")
        if (try? await registry.create(svcDef, namespace: "default", body: service, options: options)) == nil {
            _ = try? await registry.patch(svcDef, namespace: "default", name: "kubernetes", options: options) { s throws(StatusError) in
                var s = s
                s["spec"]["ports"] = ports
                return s
            }
        }
        // The API server keeps the service's EndpointSlice too, named after the service.
        if let sliceDef = registry.catalog.lookup(group: "discovery.k8s.io", version: "v1", plural: "endpointslices") {
            let slice: JSON = [
                "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                "metadata": ["name": "kubernetes", "namespace": "default", "labels": ["kubernetes.io/service-name": "kubernetes"]],
                "addressType": "IPv4",
                "endpoints": [["addresses": [.string(address)], "conditions": ["ready": true]]],
                "ports": [["name": "https", "port": .int(Int64(port)), "protocol": "TCP"]],
            ]
            if (try? await registry.create(sliceDef, namespace: "default", body: slice, options: options)) == nil {
                _ = try? await registry.patch(sliceDef, namespace: "default", name: "kubernetes", options: options) { e throws(StatusError) in
                    var e = e
                    e["endpoints"] = slice["endpoints"]
                    e["ports"] = slice["ports"]
                    return e
                }
            }
        }
        let endpoints: JSON = ["apiVersion": "v1", "kind": "Endpoints", "metadata": ["name": "kubernetes", "namespace": "default", "labels": labels],
                               "subsets": subsets]
        if (try? await registry.create(epDef, namespace: "default", body: endpoints, options: options)) == nil {
            _ = try? await registry.patch(epDef, namespace: "default", name: "kubernetes", options: options) { e throws(StatusError) in
                var e = e
                e["subsets"] = subsets
                return e
            }
        }
    }
}
