import APIMachinery
import Client
import Foundation

/// What every node agent does for its nodes, as the kubelet's node status manager: creates the
/// Node (or takes it over after a restart), writes its status, and keeps its Lease in
/// kube-node-lease renewed so node lifecycle knows it is alive.
struct NodeHeartbeat: Sendable {
    static let leaseNamespace = "kube-node-lease"
    static let leaseSeconds: Int64 = 40
    let client: Client

    /// Creates the node from `object` unless it exists, then writes `status(current node)`.
    func register(_ name: String, object: JSON, status: @Sendable (JSON) -> JSON) async {
        var node = (try? await client.nodes.get(nil, name)) ?? .null
        if node.isNull {
            do throws(StatusError) { node = try await client.nodes.create(nil, object) } catch {
                if error.code != 409 { return }
                node = (try? await client.nodes.get(nil, name)) ?? .null
            }
        }
        let fresh = status(node)
        _ = try? await client.nodes.modify(nil, name, status: true) { $0["status"] = fresh }
        await renewLease(name)
    }

    func renewLease(_ name: String) async {
        let leases = client.resource("coordination.k8s.io", "v1", "leases")
        let now = APITime.formatMicro(Date())
        do throws(StatusError) {
            try await leases.modify(Self.leaseNamespace, name) { $0["spec"]["renewTime"] = .string(now) }
        } catch {
            guard error.code == 404 else { return }
            var lease: JSON = ["apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                               "metadata": ["name": .string(name), "namespace": .string(Self.leaseNamespace)],
                               "spec": ["holderIdentity": .string(name), "leaseDurationSeconds": .int(Self.leaseSeconds),
                                        "renewTime": .string(now)]]
            if let uid = try? await client.nodes.get(nil, name)["metadata"]["uid"] {
                lease["metadata"]["ownerReferences"] = [["apiVersion": "v1", "kind": "Node", "name": .string(name), "uid": uid]]
            }
            _ = try? await leases.create(Self.leaseNamespace, lease)
        }
    }

    /// A node condition as the kubelet writes it: the transition time kept while the status is.
    static func condition(_ node: JSON, _ type: String, _ value: String, _ reason: String, _ message: String, now: String) -> JSON {
        Conditions.keepingTransitionTime(["type": .string(type), "status": .string(value), "reason": .string(reason), "message": .string(message),
                                          "lastHeartbeatTime": .string(now), "lastTransitionTime": .string(now)],
                                         from: node["status"]["conditions"].array ?? [])
    }

    static var arch: String {
        #if arch(arm64)
        "arm64"
        #else
        "amd64"
        #endif
    }

    /// The labels every node carries; the first node of a cluster also the control plane's.
    static func labels(_ name: String, controlPlane: Bool) -> JSON {
        var labels: JSON = ["kubernetes.io/hostname": .string(name), "kubernetes.io/os": "linux", "kubernetes.io/arch": .string(arch),
                            "beta.kubernetes.io/os": "linux", "beta.kubernetes.io/arch": .string(arch)]
        if controlPlane { labels["node-role.kubernetes.io/control-plane"] = "" }
        return labels
    }
}
