import APIMachinery
import Resources

/// Upstream's ServiceAccount admission for new pods: the account defaults to `default` and must
/// exist, and unless the pod or its account opts out (automountServiceAccountToken: false) it
/// gets the `kube-api-access-XXXXX` projected volume (a bound token, the cluster CA, the
/// namespace) mounted read-only in every container at /var/run/secrets/kubernetes.io/serviceaccount,
/// where client libraries look.
public struct ServiceAccountAdmission: AdmissionPlugin {
    public static let mountPath = "/var/run/secrets/kubernetes.io/serviceaccount"
    /// Upstream's token lifetime for this volume: an hour and seven seconds.
    static let tokenSeconds: Int64 = 3607

    public init() {}

    public func admit(_ request: inout AdmissionRequest) async throws(StatusError) {
        // A mirror pod's spec is the node's: upstream leaves it as it is.
        guard request.operation == .create, request.isResource("pods"), !MirrorPod.isMirror(request.object) else { return }
        var spec = request.object["spec"]
        let account = spec["serviceAccountName"].string.flatMap { $0.isEmpty ? nil : $0 } ?? spec["serviceAccount"].string.flatMap { $0.isEmpty ? nil : $0 } ?? "default"
        spec["serviceAccountName"] = .string(account)
        spec["serviceAccount"] = .string(account)
        defer { request.object["spec"] = spec }
        let serviceAccount = try await lookUp(account, in: request)
        guard spec["automountServiceAccountToken"].bool ?? serviceAccount["automountServiceAccountToken"].bool ?? true else { return }
        let lists = ["initContainers", "containers"]
        let mounted = lists.contains { list in
            (spec[list].array ?? []).contains { c in (c["volumeMounts"].array ?? []).contains { $0["mountPath"].string == Self.mountPath } }
        }
        if mounted { return }
        let name = ObjectMetaRules.generatedName("kube-api-access-")
        let volume: JSON = [
            "name": .string(name),
            "projected": ["defaultMode": 420, "sources": [
                ["serviceAccountToken": ["expirationSeconds": .int(Self.tokenSeconds), "path": "token"]],
                ["configMap": ["name": "kube-root-ca.crt", "items": [["key": "ca.crt", "path": "ca.crt"]]]],
                ["downwardAPI": ["items": [["path": "namespace", "fieldRef": ["apiVersion": "v1", "fieldPath": "metadata.namespace"]]]]],
            ]],
        ]
        spec["volumes"] = .array((spec["volumes"].array ?? []) + [volume])
        for list in lists {
            guard var containers = spec[list].array else { continue }
            for i in containers.indices {
                containers[i]["volumeMounts"] = .array((containers[i]["volumeMounts"].array ?? [])
                    + [["name": .string(name), "readOnly": true, "mountPath": .string(Self.mountPath)]])
            }
            spec[list] = .array(containers)
        }
    }

    /// The pod's account, which must exist. The `default` one is made by a controller moments
    /// after its namespace, so it is waited for a little, as upstream's plugin retries it.
    func lookUp(_ account: String, in request: AdmissionRequest) async throws(StatusError) -> JSON {
        let namespace = request.namespace
        for attempt in 0..<10 {
            do { return try await request.get("serviceaccounts", namespace: namespace, name: account) } catch {
                guard error.code == 404 else { throw error }
                if account != "default" || attempt == 9 {
                    throw request.forbidden("error looking up service account \(namespace)/\(account): serviceaccount \"\(account)\" not found")
                }
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return .emptyObject
    }
}
