import APIMachinery

/// metrics.k8s.io/v1beta1, the resource metrics API metrics-server serves and `kubectl top`
/// reads: NodeMetrics and PodMetrics, read-only, made from the node agents' measurements when
/// asked (nothing is stored).
public enum MetricsV1beta1 {
    public static let group = "metrics.k8s.io"

    public static let resources: [ResourceDefinition] = [
        ResourceDefinition(group: group, version: "v1beta1", kind: "NodeMetrics", plural: "nodes", namespaced: false, verbs: ["get", "list"],
                           columns: [.field("CPU", ["usage", "cpu"]), .field("Memory", ["usage", "memory"]), .field("Window", ["window"])]),
        ResourceDefinition(group: group, version: "v1beta1", kind: "PodMetrics", plural: "pods", verbs: ["get", "list"],
                           columns: [PrinterColumn("CPU") { o in .string(o["containers"].array?.compactMap { $0["usage"]["cpu"].string }.joined(separator: ",") ?? "") },
                                     PrinterColumn("Memory") { o in .string(o["containers"].array?.compactMap { $0["usage"]["memory"].string }.joined(separator: ",") ?? "") },
                                     .field("Window", ["window"])]),
    ]
}
