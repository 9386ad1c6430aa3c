import APIMachinery

/// node.k8s.io/v1: RuntimeClasses, which a pod names to run with a given runtime handler; the
/// RuntimeClass admission adds their overhead and scheduling constraints to the pod.
public enum NodeV1 {
    static let schemaName = "io.k8s.api.node.v1.RuntimeClass"

    public static let resources: [ResourceDefinition] = [
        ResourceDefinition(group: "node.k8s.io", version: "v1", kind: "RuntimeClass", plural: "runtimeclasses", namespaced: false,
            strategy: .init(validate: { o in (o["handler"].string ?? "").isEmpty ? [.required("handler")] : [] },
                            validateUpdate: { n, o in n["handler"] != o["handler"] ? [.invalid("handler", n["handler"], "field is immutable")] : [] }),
            columns: [.field("Handler", ["handler"], none: ""), .age], schemaName: schemaName),
    ]

}
