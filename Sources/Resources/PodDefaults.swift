import APIMachinery

/// Upstream's defaults of a pod spec (SetDefaults_PodSpec and its containers'), applied to pods and
/// to the pod templates of every workload.
public enum PodDefaults {
    public static func apply(to spec: inout JSON) {
        if spec.isNull { return }
        func set(_ k: String, _ v: JSON) { if spec[k].isNull { spec[k] = v } }
        set("restartPolicy", "Always"); set("dnsPolicy", "ClusterFirst"); set("schedulerName", "default-scheduler")
        set("terminationGracePeriodSeconds", 30); set("securityContext", .emptyObject); set("enableServiceLinks", true)
        for list in ["containers", "initContainers"] {
            guard var cs = spec[list].array else { continue }
            for i in cs.indices {
                if cs[i]["terminationMessagePath"].isNull { cs[i]["terminationMessagePath"] = "/dev/termination-log" }
                if cs[i]["terminationMessagePolicy"].isNull { cs[i]["terminationMessagePolicy"] = "File" }
                if cs[i]["resources"].isNull { cs[i]["resources"] = .emptyObject }
                // A limit without a request asks for the limit, as upstream's defaulting says.
                for (resource, limit) in cs[i]["resources"]["limits"].object ?? [:] where cs[i]["resources"]["requests"][resource].isNull {
                    cs[i]["resources"]["requests"][resource] = limit
                }
                if cs[i]["imagePullPolicy"].isNull {
                    let image = cs[i]["image"].string ?? ""
                    let tag = image.split(separator: "/").last.flatMap { $0.contains(":") ? $0.split(separator: ":").last : nil }
                    cs[i]["imagePullPolicy"] = (tag == nil || tag == "latest") && !image.contains("@") ? "Always" : "IfNotPresent"
                }
                if var ports = cs[i]["ports"].array {
                    for p in ports.indices where ports[p]["protocol"].isNull { ports[p]["protocol"] = "TCP" }
                    cs[i]["ports"] = .array(ports)
                }
            }
            spec[list] = .array(cs)
        }
    }
}
