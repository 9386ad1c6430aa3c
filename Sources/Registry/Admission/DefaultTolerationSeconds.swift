import APIMachinery
import Resources

/// Upstream's DefaultTolerationSeconds admission: a new pod that does not say how long it
/// tolerates its node being not-ready or unreachable gets five minutes of each, after which node
/// lifecycle evicts it.
public struct DefaultTolerationSeconds: AdmissionPlugin {
    public let seconds: Int64

    public init(seconds: Int64 = 300) { self.seconds = seconds }

    public func admit(_ request: inout AdmissionRequest) async throws(StatusError) {
        guard request.operation == .create, request.isResource("pods") else { return }
        var tolerations = request.object["spec"]["tolerations"].array ?? []
        for key in ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"] {
            let covered = tolerations.contains { t in
                let effect = t["effect"].string ?? "", tKey = t["key"].string ?? ""
                return (effect.isEmpty || effect == "NoExecute") && (tKey == key || (tKey.isEmpty && t["operator"] == "Exists"))
            }
            if !covered {
                tolerations.append(["key": .string(key), "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": .int(seconds)])
            }
        }
        request.object["spec"]["tolerations"] = .array(tolerations)
    }
}
