import APIMachinery
import Foundation
import NIOHTTP1

/// What `cubby ip` and `cubby service` read from a running cluster: the node's address, and the
/// URLs a NodePort or LoadBalancer service answers on from this machine (minikube's `ip` and
/// `service --url`).
extension ClusterLifecycle {
    public struct ServiceURL: Sendable, Equatable {
        public var namespace: String
        public var name: String
        /// The port's name, else its target port, as minikube's table shows it.
        public var targetPort: String
        public var url: String
    }

    /// The first node's InternalIP.
    public func nodeIP(name: String) async throws(ClusterError) -> String {
        let nodes = try await read(name, "/api/v1/nodes")
        guard let address = (nodes["items"][0]["status"]["addresses"].array ?? []).first(where: { $0["type"].string == "InternalIP" })?["address"].string else {
            throw ClusterError("the cluster \"\(name)\" has no node with an address")
        }
        return address
    }

    /// One URL per port of the service: the node's address and the port's node port.
    public func serviceURLs(name: String, namespace: String, service: String) async throws(ClusterError) -> [ServiceURL] {
        let object = try await read(name, "/api/v1/namespaces/\(namespace)/services/\(service)", notFound:
            "Service '\(service)' was not found in '\(namespace)' namespace.\nYou may select another namespace by using 'cubby service \(service) -n <namespace>'. Or list out all the services using 'kubectl get services -A'.")
        let ports = object["spec"]["ports"].array ?? []
        guard ["NodePort", "LoadBalancer"].contains(object["spec"]["type"].string ?? ""), ports.contains(where: { $0["nodePort"].int != nil }) else {
            throw ClusterError("service \(namespace)/\(service) has no node port")
        }
        let ip = try await nodeIP(name: name)
        return ports.compactMap { p in
            guard let nodePort = p["nodePort"].int else { return nil }
            let target = p["name"].string.flatMap { $0.isEmpty ? nil : $0 } ?? (p["targetPort"].int.map(String.init) ?? p["targetPort"].string ?? "")
            return ServiceURL(namespace: namespace, name: service, targetPort: target, url: "http://\(ip):\(nodePort)")
        }
    }

    /// A GET as the profile's admin, the answer parsed.
    func read(_ name: String, _ path: String, notFound: String? = nil) async throws(ClusterError) -> JSON {
        let profile = try existing(name)
        let config = try profile.loadConfig()
        guard LocalkubeProcess(profile: profile).runningPID != nil,
              let ca = try? String(contentsOf: profile.caURL, encoding: .utf8),
              let token = try? String(contentsOf: profile.tokenURL, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) else {
            throw ClusterError("The cluster \"\(name)\" is not running. To start it, run: cubby start -p \(name)")
        }
        let answer: (status: HTTPResponseStatus, body: [UInt8])
        do { answer = try await ReadinessProbe.get(port: config.port, caPEM: ca, path: path, token: token) } catch {
            throw ClusterError("cannot reach the API server of \"\(name)\": \(error)")
        }
        if answer.status == .notFound, let notFound { throw ClusterError(notFound) }
        guard answer.status == .ok, let object = try? JSON.parse(answer.body) else {
            let message = (try? JSON.parse(answer.body))?["message"].string ?? "\(answer.status.code)"
            throw ClusterError("GET \(path): \(message)")
        }
        return object
    }
}
