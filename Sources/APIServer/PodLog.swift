import APIMachinery
import Foundation
import Hummingbird
import NIOCore
import Registry
import Resources

/// `GET pods/NAME/log`: the API server checks the request as upstream's LogREST does (the
/// options, the container's name) and streams what the pod's node agent reads, as plain text.
extension ResourceRequest {
    func servePodLog(_ name: String) async throws(StatusError) -> Response {
        let options = try podLogOptions(name)
        let pod = try await registry.get(def, namespace: namespace, name: name)
        var log = options
        log.container = try Self.logContainer(pod, named: options.container)
        // A pod no node has taken has nothing to show yet (upstream answers an empty log).
        guard let node = pod["spec"]["nodeName"].string, !node.isEmpty else { return APIHandler.text("") }
        guard let connection = registry.nodes.connection(for: node) else {
            throw .internalError("no agent serves node \(node)")
        }
        let chunks = try await connection.containerLog(pod: pod, options: log)
        let body = ResponseBody { writer in
            for try await chunk in chunks.cancelOnGracefulShutdown() { try await writer.write(ByteBuffer(bytes: chunk)) }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/plain", .cacheControl: "no-cache, private"], body: body)
    }

    /// The query's PodLogOptions, checked as upstream's ValidatePodLogOptions checks them.
    func podLogOptions(_ name: String) throws(StatusError) -> PodLogOptions {
        var options = PodLogOptions(container: query["container"] ?? "")
        options.follow = query.bool("follow")
        options.previous = query.bool("previous")
        options.timestamps = query.bool("timestamps")
        options.tailLines = try query.int("tailLines")
        options.limitBytes = try query.int("limitBytes")
        options.sinceSeconds = try query.int("sinceSeconds")
        if let since = query["sinceTime"], !since.isEmpty {
            guard let time = APITime.parse(since) else { throw .badRequest("invalid value for sinceTime: \(since)") }
            options.sinceTime = time
        }
        var errors: [FieldError] = []
        if let n = options.tailLines, n < 0 { errors.append(.invalid("tailLines", .int(Int64(n)), "must be greater than or equal to 0")) }
        if let n = options.limitBytes, n < 1 { errors.append(.invalid("limitBytes", .int(Int64(n)), "must be greater than 0")) }
        if options.sinceSeconds != nil && options.sinceTime != nil {
            errors.append(.forbidden("", "at most one of `sinceTime` or `sinceSeconds` may be specified"))
        } else if let n = options.sinceSeconds, n < 1 {
            errors.append(.invalid("sinceSeconds", .int(Int64(n)), "must be greater than 0"))
        }
        guard errors.isEmpty else { throw .invalid(kind: "PodLogOptions", group: "", name: name, errors) }
        return options
    }

    /// The container whose log is asked for: the one named, or the pod's only container.
    static func logContainer(_ pod: JSON, named wanted: String) throws(StatusError) -> String {
        let name = pod["metadata"]["name"].string ?? ""
        let spec = pod["spec"]
        func names(_ key: String) -> [String] { (spec[key].array ?? []).compactMap { $0["name"].string } }
        let containers = names("containers"), initContainers = names("initContainers")
        guard wanted.isEmpty else {
            guard (containers + initContainers + names("ephemeralContainers")).contains(wanted) else {
                throw .badRequest("container \(wanted) is not valid for pod \(name)")
            }
            return wanted
        }
        switch containers.count {
        case 1: return containers[0]
        case 0: throw .badRequest("a container name must be specified for pod \(name)")
        default:
            var message = "a container name must be specified for pod \(name), choose one of: [\(containers.joined(separator: " "))]"
            if !initContainers.isEmpty { message += " or one of the init containers: [\(initContainers.joined(separator: " "))]" }
            throw .badRequest(message)
        }
    }
}
