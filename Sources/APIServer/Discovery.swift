import APIMachinery
import Registry
import Resources

/// The discovery documents kubectl reads to map kinds to resources: the legacy lists
/// (/api, /apis, /apis/G, /apis/G/V) and the aggregated apidiscovery.k8s.io/v2 form.
struct Discovery {
    let catalog: ResourceCatalog
    let serverAddress: String

    static let subresourceVerbs: JSON = ["get", "patch", "update"]

    var apiVersions: JSON {
        ["kind": "APIVersions", "versions": ["v1"],
         "serverAddressByClientCIDRs": [["clientCIDR": "0.0.0.0/0", "serverAddress": .string(serverAddress)]]]
    }

    func groups() -> [(name: String, versions: [String])] {
        var order: [String] = []
        var versions: [String: [String]] = [:]
        for gv in catalog.groupVersions where !gv.group.isEmpty {
            if versions[gv.group] == nil { order.append(gv.group) }
            versions[gv.group, default: []].append(gv.version)
        }
        return order.map { ($0, versions[$0]!) }
    }

    func groupJSON(_ name: String, _ versions: [String]) -> JSON {
        let vs: [JSON] = versions.map { ["groupVersion": .string("\(name)/\($0)"), "version": .string($0)] }
        return ["name": .string(name), "versions": .array(vs), "preferredVersion": vs[0]]
    }

    var groupList: JSON {
        ["kind": "APIGroupList", "apiVersion": "v1", "groups": .array(groups().map { groupJSON($0.name, $0.versions) })]
    }

    func group(_ name: String) -> JSON? {
        guard let g = groups().first(where: { $0.name == name }) else { return nil }
        var json = groupJSON(g.name, g.versions)
        json["kind"] = "APIGroup"
        json["apiVersion"] = "v1"
        return json
    }

    func definitions(_ gv: GroupVersion) -> [ResourceDefinition] {
        catalog.all.filter { $0.groupVersion == gv }
    }

    static func subresources(_ d: ResourceDefinition) -> [(name: String, kind: GroupVersionKind, verbs: JSON)] {
        var subs: [(String, GroupVersionKind, JSON)] = []
        if d.hasStatus { subs.append(("status", GroupVersionKind(group: d.group, version: d.version, kind: d.kind), subresourceVerbs)) }
        if d.scale != nil { subs.append(("scale", GroupVersionKind(group: "autoscaling", version: "v1", kind: "Scale"), subresourceVerbs)) }
        for s in d.subresources { subs.append((s.name, s.kind, .array(s.verbs.map { .string($0) }))) }
        return subs
    }

    func resourceList(_ gv: GroupVersion) -> JSON? {
        let defs = definitions(gv)
        guard !defs.isEmpty else { return nil }
        var resources: [JSON] = []
        for d in defs {
            var r: JSON = ["name": .string(d.plural), "singularName": .string(d.singular), "namespaced": .bool(d.namespaced),
                           "kind": .string(d.kind), "verbs": .array(d.verbs.map { .string($0) })]
            if !d.shortNames.isEmpty { r["shortNames"] = .array(d.shortNames.map { .string($0) }) }
            if !d.categories.isEmpty { r["categories"] = .array(d.categories.map { .string($0) }) }
            resources.append(r)
            for s in Self.subresources(d) {
                var sub: JSON = ["name": .string("\(d.plural)/\(s.name)"), "singularName": "", "namespaced": .bool(d.namespaced),
                                 "kind": .string(s.kind.kind), "verbs": s.verbs]
                if s.kind.group != d.group || s.kind.version != d.version {
                    sub["group"] = .string(s.kind.group)
                    sub["version"] = .string(s.kind.version)
                }
                resources.append(sub)
            }
        }
        return ["kind": "APIResourceList", "apiVersion": "v1", "groupVersion": .string(gv.description), "resources": .array(resources)]
    }

    /// apidiscovery.k8s.io/v2 APIGroupDiscoveryList: for /api the core group, for /apis the rest.
    func aggregated(core: Bool) -> JSON {
        let groupNames: [(String, [String])] = core ? [("", ["v1"])] : groups().map { ($0.name, $0.versions) }
        let items: [JSON] = groupNames.map { name, versions in
            let vs: [JSON] = versions.map { version in
                let defs = definitions(GroupVersion(group: name, version: version))
                let resources: [JSON] = defs.map { d in
                    var r: JSON = [
                        "resource": .string(d.plural),
                        "responseKind": ["group": .string(d.group), "version": .string(d.version), "kind": .string(d.kind)],
                        "scope": d.namespaced ? "Namespaced" : "Cluster",
                        "singularResource": .string(d.singular),
                        "verbs": .array(d.verbs.map { .string($0) }),
                    ]
                    if !d.shortNames.isEmpty { r["shortNames"] = .array(d.shortNames.map { .string($0) }) }
                    if !d.categories.isEmpty { r["categories"] = .array(d.categories.map { .string($0) }) }
                    let subs = Self.subresources(d)
                    if !subs.isEmpty {
                        r["subresources"] = .array(subs.map { s in
                            ["subresource": .string(s.name),
                             "responseKind": ["group": .string(s.kind.group), "version": .string(s.kind.version), "kind": .string(s.kind.kind)],
                             "verbs": s.verbs]
                        })
                    }
                    return r
                }
                return ["version": .string(version), "resources": .array(resources), "freshness": "Current"]
            }
            var meta: JSON = .emptyObject
            if !name.isEmpty { meta["name"] = .string(name) }
            return ["metadata": meta, "versions": .array(vs)]
        }
        return ["kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": .emptyObject, "items": .array(items)]
    }
}
