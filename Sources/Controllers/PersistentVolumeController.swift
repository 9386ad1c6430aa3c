import APIMachinery
import Client
import Foundation

/// Upstream's persistentvolume-binder with a host-path provisioner beside it, as minikube ships
/// one: a claim with no class gets the default StorageClass; an unbound claim binds to the
/// smallest Available volume that satisfies it, or, when its class is provisioned here, to a new
/// `pvc-<uid>` host-path volume under the data dir; a volume whose claim is gone is deleted or,
/// when its policy retains it, Released.
public struct PersistentVolumeController: Controller {
    public static let provisioner = "cubby.dev/hostpath"
    static let defaultClassAnnotation = "storageclass.kubernetes.io/is-default-class"

    public let name = "persistentvolume-binder"
    public let queue = WorkQueue()
    let client: Client
    let claims: Informer
    let volumes: Informer
    let classes: Informer
    let events: EventRecorder
    /// Where provisioned volumes live (what a node mounts for them).
    let directory: URL

    public init(client: Client, informers: InformerFactory, directory: URL) {
        self.client = client
        self.directory = directory
        claims = informers.informer("", "v1", "persistentvolumeclaims")
        volumes = informers.informer("", "v1", "persistentvolumes")
        classes = informers.informer("storage.k8s.io", "v1", "storageclasses")
        events = EventRecorder(client: client, component: "persistentvolume-controller")
    }

    var claimClient: ResourceClient { client.resource("", "v1", "persistentvolumeclaims") }
    var volumeClient: ResourceClient { client.resource("", "v1", "persistentvolumes") }

    // Keys are `claim:NS/NAME` and `volume:NAME`: one queue for both kinds of object.
    public func register() async {
        let queue = queue, claims = claims
        await claims.addHandler { event in
            if case .deleted(let pvc) = event, let volume = pvc["spec"]["volumeName"].string, !volume.isEmpty {
                queue.add("volume:" + volume)
            }
            queue.add("claim:" + Informer.key(event.object))
        }
        await volumes.addHandler { event in
            let pv = event.object
            queue.add("volume:" + Informer.key(pv))
            if let ns = pv["spec"]["claimRef"]["namespace"].string, let name = pv["spec"]["claimRef"]["name"].string { queue.add("claim:\(ns)/\(name)") }
            // A volume set free may suit a claim that is waiting.
            if case .deleted = event { return }
            if pv["spec"]["claimRef"].isNull { Self.queuePending(claims, queue) }
        }
        await classes.addHandler { _ in Self.queuePending(claims, queue) }
        await claims.waitForSync()
        await volumes.waitForSync()
        await classes.waitForSync()
    }

    static func queuePending(_ claims: Informer, _ queue: WorkQueue) {
        Task {
            for pvc in await claims.list(where: { ($0["spec"]["volumeName"].string ?? "").isEmpty }) { queue.add("claim:" + Informer.key(pvc)) }
        }
    }

    public func reconcile(_ key: String) async throws {
        if key.hasPrefix("claim:") { try await syncClaim(String(key.dropFirst(6))) }
        if key.hasPrefix("volume:") { try await syncVolume(String(key.dropFirst(7))) }
    }

    // MARK: claims

    func syncClaim(_ key: String) async throws {
        guard let pvc = await claims.get(key), pvc["metadata"]["deletionTimestamp"].isNull else { return }
        let (namespace, name) = Informer.split(key)
        // Retroactive default class: a claim that names none gets the default, once there is one.
        if pvc["spec"]["storageClassName"].isNull {
            guard let fallback = await defaultClass() else { return try await waitForVolume(pvc, className: nil) }
            try await claimClient.modify(namespace, name) { c in
                if c["spec"]["storageClassName"].isNull { c["spec"]["storageClassName"] = fallback["metadata"]["name"] }
            }
            return
        }
        let className = pvc["spec"]["storageClassName"].string ?? ""
        if let volumeName = pvc["spec"]["volumeName"].string, !volumeName.isEmpty {
            guard let pv = await volumes.get(volumeName) else {
                if pvc["status"]["phase"] == "Bound" {
                    events.warning(pvc, "ClaimLost", "Bound claim has lost its PersistentVolume. Data on the volume is lost!")
                    try await setClaimPhase(pvc, "Lost", volume: nil)
                }
                return
            }
            if pv["spec"]["claimRef"].isNull { return try await bind(pvc, to: pv) }
            guard pv["spec"]["claimRef"]["uid"] == pvc["metadata"]["uid"] else { return }
            try await finishBinding(pvc, pv)
            return
        }
        let uid = pvc["metadata"]["uid"].string
        if let prebound = await volumes.list(where: { $0["spec"]["claimRef"]["uid"].string == uid }).first {
            return try await finishBinding(pvc, prebound)
        }
        if let pv = await matchingVolume(for: pvc, className: className) { return try await bind(pvc, to: pv) }
        try await waitForVolume(pvc, className: className)
    }

    /// Nothing to bind to yet: provision when the class is ours, otherwise say what is awaited.
    func waitForVolume(_ pvc: JSON, className: String?) async throws {
        guard let className, !className.isEmpty, let storageClass = await classes.get(className) else {
            let message = className.map { $0.isEmpty ? "no persistent volumes available for this claim and no storage class is set"
                                                     : "storageclass.storage.k8s.io \"\($0)\" not found" }
                ?? "no persistent volumes available for this claim and no storage class is set"
            events.normal(pvc, "FailedBinding", message)
            return
        }
        let provisioner = storageClass["provisioner"].string ?? ""
        guard provisioner == Self.provisioner else {
            events.normal(pvc, "ExternalProvisioning", "Waiting for a volume to be created either by the external provisioner '\(provisioner)' "
                          + "or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.")
            return
        }
        try await provision(pvc, storageClass)
    }

    func provision(_ pvc: JSON, _ storageClass: JSON) async throws {
        let uid = pvc["metadata"]["uid"].string ?? ""
        let volumeName = "pvc-\(uid)"
        // Asked of the API, not the informer, which may not show a volume just made.
        if (try? await volumeClient.get(nil, volumeName)) != nil { return }
        let namespace = pvc["metadata"]["namespace"].string ?? "", claimName = pvc["metadata"]["name"].string ?? ""
        events.normal(pvc, "Provisioning", "External provisioner is provisioning volume for claim \"\(namespace)/\(claimName)\"")
        let pv: JSON = [
            "apiVersion": "v1", "kind": "PersistentVolume",
            "metadata": ["name": .string(volumeName), "annotations": ["pv.kubernetes.io/provisioned-by": .string(Self.provisioner)]],
            "spec": [
                "capacity": ["storage": pvc["spec"]["resources"]["requests"]["storage"]],
                "accessModes": pvc["spec"]["accessModes"],
                "persistentVolumeReclaimPolicy": storageClass["reclaimPolicy"].isNull ? "Delete" : storageClass["reclaimPolicy"],
                "storageClassName": storageClass["metadata"]["name"],
                "volumeMode": pvc["spec"]["volumeMode"].isNull ? "Filesystem" : pvc["spec"]["volumeMode"],
                "hostPath": ["path": .string(directory.appendingPathComponent(volumeName).path), "type": "DirectoryOrCreate"],
                "claimRef": Self.reference(to: pvc),
            ],
        ]
        do throws(StatusError) {
            try await volumeClient.create(nil, pv)
        } catch {
            if error.code == 409 { return }
            events.warning(pvc, "ProvisioningFailed", "failed to provision volume with StorageClass \"\(storageClass["metadata"]["name"].string ?? "")\": \(error.message)")
            throw error
        }
        events.normal(pvc, "ProvisioningSucceeded", "Successfully provisioned volume \(volumeName)")
        try await claimClient.modify(namespace, claimName) { c in
            c["metadata"]["annotations"]["volume.kubernetes.io/storage-provisioner"] = .string(Self.provisioner)
            c["metadata"]["annotations"]["volume.beta.kubernetes.io/storage-provisioner"] = .string(Self.provisioner)
        }
    }

    /// The smallest Available volume of the claim's class with room, the access modes and volume
    /// mode it asks for, and the labels its selector wants.
    func matchingVolume(for pvc: JSON, className: String) async -> JSON? {
        let spec = pvc["spec"]
        let wanted = Quantity.value(spec["resources"]["requests"]["storage"])
        let modes = Set((spec["accessModes"].array ?? []).compactMap(\.string))
        let mode = spec["volumeMode"].string ?? "Filesystem"
        let selector = spec["selector"].isNull ? nil : try? LabelSelector.fromStructured(spec["selector"])
        let candidates = await volumes.list { pv in
            pv["spec"]["claimRef"].isNull && pv["status"]["phase"] == "Available" && pv["metadata"]["deletionTimestamp"].isNull
                && (pv["spec"]["storageClassName"].string ?? "") == className
                && (pv["spec"]["volumeMode"].string ?? "Filesystem") == mode
                && modes.isSubset(of: (pv["spec"]["accessModes"].array ?? []).compactMap(\.string))
                && Quantity.value(pv["spec"]["capacity"]["storage"]) >= wanted
                && (selector?.matches(labels: pv["metadata"]["labels"]) ?? true)
        }
        return candidates.min { Quantity.value($0["spec"]["capacity"]["storage"]) < Quantity.value($1["spec"]["capacity"]["storage"]) }
    }

    /// The volume first (it is the one another claim could race for), then the claim.
    func bind(_ pvc: JSON, to pv: JSON) async throws {
        let ref = Self.reference(to: pvc)
        let claimUID = pvc["metadata"]["uid"].string
        let bound = try await volumeClient.modify(nil, pv["metadata"]["name"].string ?? "") { v in
            guard v["spec"]["claimRef"].isNull else { return }
            v["spec"]["claimRef"] = ref
            v["metadata"]["annotations"]["pv.kubernetes.io/bound-by-controller"] = "yes"
        }
        guard bound["spec"]["claimRef"]["uid"].string == claimUID else { return }
        try await finishBinding(pvc, bound)
    }

    func finishBinding(_ pvc: JSON, _ pv: JSON) async throws {
        let volumeName = pv["metadata"]["name"].string ?? ""
        if pv["status"]["phase"] != "Bound" {
            try await volumeClient.modify(nil, volumeName, status: true) { v in v["status"] = ["phase": "Bound"] }
        }
        let (namespace, name) = Informer.split(Informer.key(pvc))
        if pvc["spec"]["volumeName"].string != volumeName || pvc["metadata"]["annotations"]["pv.kubernetes.io/bind-completed"] != "yes" {
            try await claimClient.modify(namespace, name) { c in
                c["spec"]["volumeName"] = .string(volumeName)
                c["metadata"]["annotations"]["pv.kubernetes.io/bind-completed"] = "yes"
                if pv["metadata"]["annotations"]["pv.kubernetes.io/provisioned-by"].isNull {
                    c["metadata"]["annotations"]["pv.kubernetes.io/bound-by-controller"] = "yes"
                }
            }
        }
        if pvc["status"]["phase"] != "Bound" { try await setClaimPhase(pvc, "Bound", volume: pv) }
    }

    func setClaimPhase(_ pvc: JSON, _ phase: String, volume pv: JSON?) async throws {
        let (namespace, name) = Informer.split(Informer.key(pvc))
        try await claimClient.modify(namespace, name, status: true) { c in
            c["status"]["phase"] = .string(phase)
            c["status"]["accessModes"] = pv?["spec"]["accessModes"] ?? nil
            c["status"]["capacity"] = pv?["spec"]["capacity"] ?? nil
        }
    }

    func defaultClass() async -> JSON? {
        await classes.list { $0["metadata"]["annotations"][Self.defaultClassAnnotation] == "true" }
            .max { ($0["metadata"]["creationTimestamp"].string ?? "") < ($1["metadata"]["creationTimestamp"].string ?? "") }
    }

    static func reference(to pvc: JSON) -> JSON {
        ["apiVersion": "v1", "kind": "PersistentVolumeClaim", "namespace": pvc["metadata"]["namespace"], "name": pvc["metadata"]["name"],
         "uid": pvc["metadata"]["uid"], "resourceVersion": pvc["metadata"]["resourceVersion"]]
    }

    // MARK: volumes

    func syncVolume(_ name: String) async throws {
        guard let pv = await volumes.get(name), pv["metadata"]["deletionTimestamp"].isNull else { return }
        let ref = pv["spec"]["claimRef"]
        guard let ns = ref["namespace"].string, let claimName = ref["name"].string else {
            if pv["status"]["phase"] != "Available" { try await setVolumePhase(name, "Available") }
            return
        }
        if let pvc = await claims.get("\(ns)/\(claimName)"), pvc["metadata"]["uid"] == ref["uid"] || ref["uid"].isNull { return }
        // Its claim is gone: the volume goes with it, or waits for an administrator.
        guard pv["spec"]["persistentVolumeReclaimPolicy"] == "Delete" else {
            if pv["status"]["phase"] != "Released" { try await setVolumePhase(name, "Released") }
            return
        }
        // Released first, as upstream's: the volume's protection finalizer holds it while Bound.
        if pv["status"]["phase"] != "Released" { try await setVolumePhase(name, "Released") }
        if pv["metadata"]["annotations"]["pv.kubernetes.io/provisioned-by"].string == Self.provisioner {
            try? FileManager.default.removeItem(at: directory.appendingPathComponent(name))
        }
        do throws(StatusError) { try await volumeClient.delete(nil, name) } catch { if error.code != 404 { throw error } }
    }

    func setVolumePhase(_ name: String, _ phase: String) async throws {
        try await volumeClient.modify(nil, name, status: true) { v in v["status"]["phase"] = .string(phase) }
    }
}
