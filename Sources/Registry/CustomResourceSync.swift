import APIMachinery
import Resources

/// Serves each established CRD's resources and stops serving them (and forgets their objects)
/// when the CRD goes: the part of upstream's apiextensions server that keeps discovery, OpenAPI
/// and routing in step with CRDs.
public actor CustomResourceSync {
    let registry: Registry

    public init(registry: Registry) { self.registry = registry }

    public func run() async {
        guard let crdDef = registry.catalog.lookup(group: "apiextensions.k8s.io", version: "v1", plural: "customresourcedefinitions") else { return }
        // From the whole state on every (re)start: a watch that ends (a restore replaced the
        // store) opens again, and CRDs not in the new state stop being served.
        var options = ListOptions()
        options.sendInitialEvents = true
        options.resourceVersionMatch = "NotOlderThan"
        options.allowWatchBookmarks = true
        while !Task.isCancelled {
            guard let events = try? await registry.watch(crdDef, namespace: nil, options: options) else { return }
            var initial: Set<String>? = []
            for await event in events {
                if event.type == "BOOKMARK" {
                    guard let seen = initial, event.object["metadata"]["annotations"]["k8s.io/initial-events-end"].string == "true" else { continue }
                    for name in registry.catalog.customCRDNames where !seen.contains(name) {
                        registry.catalog.setCustom(crdName: name, definitions: [], schemas: [:])
                    }
                    initial = nil
                    continue
                }
                guard let name = event.object["metadata"]["name"].string else { continue }
                initial?.insert(name)
                if event.type == "DELETED" {
                    await removeObjects(of: name)
                    registry.catalog.setCustom(crdName: name, definitions: [], schemas: [:])
                } else if event.type == "ADDED" || event.type == "MODIFIED" {
                    let crd = event.object
                    let established = (crd["status"]["conditions"].array ?? []).contains {
                        $0["type"].string == "Established" && $0["status"].string == "True"
                    }
                    registry.catalog.setCustom(crdName: name, definitions: established ? CustomResource.definitions(from: crd) : [],
                                               schemas: established ? CustomResource.schemas(from: crd) : [:])
                }
            }
        }
    }

    /// A deleted CRD takes its custom resources with it, as upstream's cleanup finalizer does.
    func removeObjects(of crdName: String) async {
        guard let def = registry.catalog.all.first(where: { "\($0.plural).\($0.group)" == crdName }) else { return }
        var options = DeleteOptions()
        options.gracePeriodSeconds = 0
        _ = try? await registry.deleteCollection(def, namespace: nil, listOptions: ListOptions(), options: options)
    }
}
