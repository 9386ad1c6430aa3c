import APIMachinery
import Foundation
import HTTPTypes
import NIOCore
import NIOHTTP1
import Registry

/// `pods/exec`, `pods/attach`, `pods/portforward`: the checks upstream's connect handlers make
/// before a stream opens (who asks, the `create` verb, the pod, its container, the options),
/// then the node's streaming URL. Refusals are the Status the client is answered instead of 101.
extension APIHandler {
    static let streamSubresources: Set<String> = ["exec", "attach", "portforward"]

    func streamTarget(_ head: HTTPRequestHead, channel: any Channel) async throws(StatusError) -> StreamTarget {
        var headers = HTTPFields()
        for (name, value) in head.headers {
            if let field = HTTPField.Name(name) { headers.append(HTTPField(name: field, value: value)) }
        }
        let parts = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let path = String(parts[0])
        let query = Query(parts.count > 1 ? String(parts[1]) : nil)
        let resourcePath = ResourcePath.parse(path)
        let certificate = headers[.authorization] == nil ? await APIRequestContext.clientCertificate(channel) : nil
        _ = try await authorize(HTTPRequest.Method(head.method.rawValue) ?? .get, path: path, resourcePath: resourcePath, query: query,
                                headers: headers, clientCertificate: certificate)
        guard let rp = resourcePath, let namespace = rp.namespace, let name = rp.name, let sub = rp.subresource, Self.streamSubresources.contains(sub),
              let def = registry.catalog.lookup(group: rp.group, version: rp.version, plural: rp.resource), def.serves(sub) else { throw .notFoundPath() }
        let pod = try await registry.get(def, namespace: namespace, name: name)
        let request = try Self.streamRequest(sub, pod: pod, query: query)
        guard let node = pod["spec"]["nodeName"].string, !node.isEmpty else {
            throw .badRequest("pod \(name) does not have a host assigned")
        }
        guard let connection = registry.nodes.connection(for: node) else { throw .internalError("no agent serves node \(node)") }
        let url = try await connection.streamURL(pod: pod, request: request)
        switch request {
        case .exec(_, _, let stdin, let stdout, let stderr, let tty):
            var target = StreamTarget(kind: .remoteCommand(stdin: stdin, stdout: stdout, stderr: stderr, tty: tty), url: url)
            if stdin && !tty {
                target.runInContainer = { streams throws(StatusError) in try await connection.run(inContainer: pod, request: request, streams: streams) }
            }
            return target
        case .attach(_, let stdin, let stdout, let stderr, let tty):
            return StreamTarget(kind: .remoteCommand(stdin: stdin, stdout: stdout, stderr: stderr, tty: tty), url: url)
        case .portForward:
            return StreamTarget(kind: .portForward(ports: try Self.forwardedPorts(query)), url: url)
        }
    }

    /// PodExecOptions and PodAttachOptions from the query, checked as upstream checks them.
    static func streamRequest(_ sub: String, pod: JSON, query: Query) throws(StatusError) -> StreamRequest {
        if sub == "portforward" { return .portForward }
        let stdin = query.bool("stdin"), stdout = query.bool("stdout"), tty = query.bool("tty")
        // A terminal has one output: the runtime refuses stderr beside it, the kubelet drops it.
        let stderr = query.bool("stderr") && !tty
        guard stdin || stdout || stderr else { throw .badRequest("you must specify at least 1 of stdin, stdout, stderr") }
        let container = try ResourceRequest.logContainer(pod, named: query["container"] ?? "")
        guard sub == "exec" else { return .attach(container: container, stdin: stdin, stdout: stdout, stderr: stderr, tty: tty) }
        let command = query.lists["command"] ?? []
        guard !command.isEmpty else { throw .badRequest("you must specify at least one command for the container") }
        return .exec(container: container, command: command, stdin: stdin, stdout: stdout, stderr: stderr, tty: tty)
    }

    /// `ports=80,8080` (repeatable), as the WebSocket port-forward protocol names them.
    static func forwardedPorts(_ query: Query) throws(StatusError) -> [UInt16] {
        var ports: [UInt16] = []
        for list in query.lists["ports"] ?? [] {
            for item in list.split(separator: ",") {
                let text = item.trimmingCharacters(in: .whitespaces)
                guard let port = UInt16(text), port > 0 else {
                    throw .badRequest("unable to parse \"\(text)\" as a port: port must be in the range 1 to 65535")
                }
                ports.append(port)
            }
        }
        return ports
    }
}
