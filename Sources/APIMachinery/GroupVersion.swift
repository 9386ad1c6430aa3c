public struct GroupVersion: Hashable, Sendable, CustomStringConvertible {
    public var group: String
    public var version: String
    public init(group: String, version: String) { self.group = group; self.version = version }

    /// "v1" for the core group, "apps/v1" otherwise: the apiVersion field's form.
    public var description: String { group.isEmpty ? version : "\(group)/\(version)" }

    public init?(apiVersion: String) {
        let parts = apiVersion.split(separator: "/", omittingEmptySubsequences: false)
        switch parts.count {
        case 1 where !apiVersion.isEmpty: self.init(group: "", version: apiVersion)
        case 2 where !parts[0].isEmpty && !parts[1].isEmpty: self.init(group: String(parts[0]), version: String(parts[1]))
        default: return nil
        }
    }

    /// The URL prefix this group version is served under.
    public var pathPrefix: String { group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)" }
}

public struct GroupResource: Hashable, Sendable {
    public var group: String
    public var resource: String
    public init(group: String, resource: String) { self.group = group; self.resource = resource }
}

public struct GroupVersionKind: Hashable, Sendable {
    public var group: String
    public var version: String
    public var kind: String
    public init(group: String, version: String, kind: String) { self.group = group; self.version = version; self.kind = kind }
    public var groupVersion: GroupVersion { GroupVersion(group: group, version: version) }
}
