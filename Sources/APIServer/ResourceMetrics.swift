import APIMachinery
import Foundation
import HTTPTypes
import Hummingbird
import Registry
import Resources

/// metrics.k8s.io/v1beta1, shaped as metrics-server answers it: NodeMetrics and PodMetrics made
/// from what the node agents measured (CPU in nanocores over the sampling window, memory as
/// the working set in Ki), labelled as their node or pod, filtered by label selector.
extension ResourceRequest {
    var isResourceMetrics: Bool { def.group == MetricsV1beta1.group }

    func serveResourceMetrics(_ method: HTTPRequest.Method) async throws(StatusError) -> Response {
        guard method == .get, path.subresource == nil else { throw .methodNotAllowed() }
        guard !query.bool("watch") else { throw .methodNotAllowed() }
        let usage = await registry.nodes.usage()
        let options = try listOptions()
        let items: [JSON]
        if def.plural == "nodes" {
            let nodes = try await labelled("nodes", namespace: nil, options)
            items = usage.compactMap { u in
                nodes[u.node].map { labels in
                    ["metadata": ["name": .string(u.node), "labels": labels, "creationTimestamp": .string(APITime.format(Date()))],
                     "timestamp": .string(APITime.format(u.timestamp)), "window": Self.window(u.window), "usage": Self.quantities(u.usage)]
                }
            }
        } else {
            let pods = try await labelled("pods", namespace: namespace, options)
            items = usage.flatMap { u in
                u.pods.compactMap { p -> JSON? in
                    guard let labels = pods["\(p.namespace)/\(p.name)"] else { return nil }
                    return ["metadata": ["name": .string(p.name), "namespace": .string(p.namespace), "labels": labels,
                                         "creationTimestamp": .string(APITime.format(Date()))],
                            "timestamp": .string(APITime.format(u.timestamp)), "window": Self.window(u.window),
                            "containers": .array(p.containers.map { ["name": .string($0.name), "usage": Self.quantities($0.usage)] })]
                }
            }
        }
        return try answer(computed: items)
    }

    /// The answer for a resource made when asked (nothing stored, no resourceVersion): the item
    /// the path names, or them all as a list or a Table.
    func answer(computed items: [JSON]) throws(StatusError) -> Response {
        let items = items.map { item in
            var o = item
            o["kind"] = .string(def.kind)
            o["apiVersion"] = .string(def.apiVersion)
            return o
        }
        if let name = path.name {
            guard let item = items.first(where: { $0["metadata"]["name"].string == name }) else {
                throw .notFound(GroupResource(group: def.group, resource: def.plural), name)
            }
            return render(item)
        }
        let meta: JSON = ["resourceVersion": ""]
        if wantsTable { return APIHandler.json(TableConvertor.table(items, def, includeObject: query["includeObject"], metadata: meta)) }
        return APIHandler.json(["kind": .string(def.listKind), "apiVersion": .string(def.apiVersion), "metadata": meta, "items": .array(items)])
    }

    /// The labels of the core objects the selector picks (all when none), by key.
    func labelled(_ plural: String, namespace: String?, _ options: ListOptions) async throws(StatusError) -> [String: JSON] {
        guard let core = registry.catalog.lookup(group: "", version: "v1", plural: plural) else { return [:] }
        var selection = ListOptions()
        selection.labelSelector = options.labelSelector
        let page = try await registry.list(core, namespace: namespace, options: selection)
        var labels: [String: JSON] = [:]
        for data in page.items {
            guard let o = try? JSON.parse(data) else { continue }
            let meta = o["metadata"]
            let key = (meta["namespace"].string.map { "\($0)/" } ?? "") + (meta["name"].string ?? "")
            labels[key] = meta["labels"].isNull ? .emptyObject : meta["labels"]
        }
        return labels
    }

    static func quantities(_ usage: ResourceUsage) -> JSON {
        ["cpu": .string("\(usage.cpuNanoCores)n"), "memory": .string("\(usage.memoryBytes / 1024)Ki")]
    }

    static func window(_ seconds: Double) -> JSON { .string(String(format: "%.3fs", seconds)) }
}
