/// A request path in the API's grammar: `/api/v1/namespaces/NS/pods/NAME/status`,
/// `/apis/apps/v1/deployments`, ...
struct ResourcePath: Equatable {
    var group: String
    var version: String
    var namespace: String?
    var resource: String
    var name: String?
    var subresource: String?

    static func parse(_ path: String) -> ResourcePath? {
        var segments = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        let group: String
        let version: String
        if segments.first == "api", segments.count >= 3 {
            group = ""
            version = segments[1]
            segments.removeFirst(2)
        } else if segments.first == "apis", segments.count >= 4 {
            group = segments[1]
            version = segments[2]
            segments.removeFirst(3)
        } else {
            return nil
        }
        var namespace: String?
        // namespaces/NS/RESOURCE... is a namespaced path; namespaces/NS[/status|finalize] is the namespace itself.
        if segments.count >= 3, segments[0] == "namespaces", segments[2] != "status", segments[2] != "finalize" {
            namespace = segments[1]
            segments.removeFirst(2)
        }
        guard (1...3).contains(segments.count) else { return nil }
        return ResourcePath(group: group, version: version, namespace: namespace, resource: segments[0],
                            name: segments.count > 1 ? segments[1] : nil, subresource: segments.count > 2 ? segments[2] : nil)
    }
}
