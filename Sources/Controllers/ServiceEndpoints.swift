import APIMachinery

/// What a Service selects, as both endpoint controllers read it: the pods its selector matches
/// that have an IP, whether each is ready, and the service's ports resolved against each pod
/// (a named targetPort is looked up in the pod's container ports).
struct ServiceEndpoints {
    struct Endpoint {
        var pod: JSON
        var ip: String
        /// The pod's hostname when it names this service as its subdomain (a StatefulSet's pods
        /// under their governing service), which the cluster DNS serves as HOSTNAME.SVC.NS.svc.
        var hostname: String?
        var ready: Bool
        var terminating: Bool
        var ports: [JSON]
    }

    static func selects(_ service: JSON, _ pod: JSON) -> Bool {
        let selector = service["spec"]["selector"].stringMap
        guard !selector.isEmpty else { return false }
        let labels = pod["metadata"]["labels"].stringMap
        return selector.allSatisfy { labels[$0.key] == $0.value }
    }

    static func endpoints(_ service: JSON, pods: [JSON]) -> [Endpoint] {
        // publishNotReadyAddresses: every pod counts as ready (peers of a StatefulSet find each
        // other before they are ready).
        let publishNotReady = service["spec"]["publishNotReadyAddresses"].bool == true
        let name = service["metadata"]["name"].string
        return pods.filter { selects(service, $0) }.compactMap { pod in
            guard let ip = pod["status"]["podIP"].string, !ip.isEmpty else { return nil }
            let phase = pod["status"]["phase"].string
            guard phase != "Succeeded" && phase != "Failed" else { return nil }
            let ports = (service["spec"]["ports"].array ?? []).compactMap { port -> JSON? in
                guard let number = targetPort(port, pod) else { return nil }
                var p: JSON = ["port": .int(number), "protocol": port["protocol"].isNull ? "TCP" : port["protocol"]]
                if let name = port["name"].string, !name.isEmpty { p["name"] = .string(name) }
                if !port["appProtocol"].isNull { p["appProtocol"] = port["appProtocol"] }
                return p
            }
            let hostname = pod["spec"]["hostname"].string.flatMap { !$0.isEmpty && pod["spec"]["subdomain"].string == name ? $0 : nil }
            return Endpoint(pod: pod, ip: ip, hostname: hostname, ready: publishNotReady || ControllerRef.isReady(pod),
                            terminating: !pod["metadata"]["deletionTimestamp"].isNull, ports: ports)
        }.sorted { $0.ip < $1.ip }
    }

    static func targetPort(_ port: JSON, _ pod: JSON) -> Int64? {
        let target = port["targetPort"]
        if let n = target.int { return n }
        guard let name = target.string, !name.isEmpty else { return port["port"].int }
        for c in pod["spec"]["containers"].array ?? [] {
            for p in c["ports"].array ?? [] where p["name"].string == name { return p["containerPort"].int }
        }
        return nil
    }

    static func targetRef(_ pod: JSON) -> JSON {
        ["kind": "Pod", "namespace": pod["metadata"]["namespace"], "name": pod["metadata"]["name"], "uid": pod["metadata"]["uid"]]
    }
}
