import APIMachinery
import Client

/// Upstream's ControllerRefManager: a controller's objects are those its selector matches. An
/// orphan that matches is adopted (the controller becomes its controlling owner); an object it
/// controls that no longer matches is released (the reference removed), so relabelling a pod
/// takes it out of its ReplicaSet, which then makes another. An owner being deleted does neither.
struct ControllerClaims: Sendable {
    let informer: Informer
    let resource: ResourceClient

    init(_ informer: Informer, _ resource: ResourceClient) {
        self.informer = informer
        self.resource = resource
    }

    /// spec.selector of a ReplicaSet, Deployment, Job, DaemonSet or StatefulSet; nil when empty,
    /// which adopts nothing (the API refuses an empty one anyway).
    @Sendable static func selector(_ owner: JSON) -> LabelSelector? {
        guard let selector = try? LabelSelector.fromStructured(owner["spec"]["selector"]), !selector.isEverything else { return nil }
        return selector
    }

    /// The objects `owner` controls once orphans are adopted and strays released; `include`
    /// narrows which objects are considered at all (upstream claims only active pods).
    func claim(_ owner: JSON, selector: LabelSelector, where include: (JSON) -> Bool = { _ in true }) async throws(StatusError) -> [JSON] {
        let deleting = !owner["metadata"]["deletionTimestamp"].isNull
        let uid = owner["metadata"]["uid"].string ?? ""
        var claimed: [JSON] = []
        for object in await informer.list(controlledBy: owner) where include(object) {
            if deleting || selector.matches(labels: object["metadata"]["labels"]) {
                claimed.append(object)
                continue
            }
            try await change(object) { o in
                guard Informer.controllerUID(o) == uid, !selector.matches(labels: o["metadata"]["labels"]) else { return }
                let rest = (o["metadata"]["ownerReferences"].array ?? []).filter { $0["uid"].string != uid }
                o["metadata"]["ownerReferences"] = rest.isEmpty ? nil : .array(rest)
            }
        }
        guard !deleting else { return claimed }
        let orphans = await informer.list(orphansIn: owner["metadata"]["namespace"].string ?? "").filter { o in
            include(o) && o["metadata"]["deletionTimestamp"].isNull && selector.matches(labels: o["metadata"]["labels"])
        }
        for object in orphans {
            let adopted = try await change(object) { o in
                guard Informer.controllerUID(o) == nil, o["metadata"]["deletionTimestamp"].isNull,
                      selector.matches(labels: o["metadata"]["labels"]) else { return }
                o["metadata"]["ownerReferences"] = .array((o["metadata"]["ownerReferences"].array ?? []) + [ControllerRef.reference(to: owner)])
            }
            if let adopted, Informer.controllerUID(adopted) == uid { claimed.append(adopted) }
        }
        return claimed
    }

    /// The pods `owner` controls once claimed by its spec.selector.
    static func pods(of owner: JSON, _ pods: Informer, _ client: Client) async throws(StatusError) -> [JSON] {
        guard let selector = selector(owner) else { return await pods.list(controlledBy: owner) }
        return try await ControllerClaims(pods, client.pods).claim(owner, selector: selector)
    }

    /// The object after the change; nil if it is gone.
    @discardableResult
    func change(_ object: JSON, _ body: @escaping @Sendable (inout JSON) -> Void) async throws(StatusError) -> JSON? {
        let (namespace, name) = Informer.split(Informer.key(object))
        do throws(StatusError) {
            return try await resource.modify(namespace, name, body)
        } catch {
            if error.code == 404 { return nil }
            throw error
        }
    }

    /// Queues every owner in the orphan's namespace whose selector matches it: the handler half of
    /// adoption, for objects no controller owns.
    static func queueAdopters(of orphan: JSON, owners: Informer, selector: @escaping @Sendable (JSON) -> LabelSelector?, _ queue: WorkQueue) {
        guard let namespace = orphan["metadata"]["namespace"].string, orphan["metadata"]["deletionTimestamp"].isNull else { return }
        let labels = orphan["metadata"]["labels"]
        Task {
            for owner in await owners.list(namespace: namespace) where selector(owner)?.matches(labels: labels) == true {
                queue.add(Informer.key(owner))
            }
        }
    }
}
