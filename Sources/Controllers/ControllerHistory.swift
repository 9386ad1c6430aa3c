import APIMachinery
import Client

/// The ControllerRevisions of a StatefulSet or DaemonSet, as upstream's controller history: each
/// pod template the owner has run is kept as `<owner>-<hash>`, numbered in the order it last became
/// the owner's template, so `kubectl rollout history` lists them and `rollout undo` patches one back.
struct ControllerHistory: Sendable {
    static let hashLabel = "controller.kubernetes.io/hash"

    let client: Client
    let revisions: Informer

    var revisionClient: ResourceClient { client.resource("apps", "v1", "controllerrevisions") }

    /// The name of the revision holding the owner's template (its hash as `hash`), made if new;
    /// an older revision that the template went back to is renumbered to be the newest.
    func ensure(_ owner: JSON, hash: String) async throws -> String {
        let ownerName = owner["metadata"]["name"].string ?? "", namespace = owner["metadata"]["namespace"].string ?? ""
        let name = "\(ownerName)-\(hash)"
        let newest = await revisions.list(controlledBy: owner).compactMap { $0["revision"].int }.max() ?? 0
        if let existing = await revisions.get("\(namespace)/\(name)") {
            guard let number = existing["revision"].int, number < newest else { return name }
            do throws(StatusError) {
                try await revisionClient.modify(namespace, name) { $0["revision"] = .int(newest + 1) }
            } catch {
                if error.code != 404 { throw error }
            }
            return name
        }
        var labels = owner["spec"]["template"]["metadata"]["labels"]
        labels[Self.hashLabel] = .string(hash)
        var template = owner["spec"]["template"]
        template["$patch"] = "replace"
        do throws(StatusError) {
            try await revisionClient.create(namespace, [
                "apiVersion": "apps/v1", "kind": "ControllerRevision",
                "metadata": ["name": .string(name), "namespace": .string(namespace), "labels": labels,
                             "ownerReferences": [ControllerRef.reference(to: owner)]],
                "data": ["spec": ["template": template]], "revision": .int(newest + 1)])
        } catch {
            if error.code != 409 { throw error }
        }
        return name
    }

    /// The pod template a revision holds, or the owner's own when the revision is gone.
    func template(_ owner: JSON, revision: String) async -> JSON {
        let namespace = owner["metadata"]["namespace"].string ?? ""
        guard let stored = await revisions.get("\(namespace)/\(revision)"), !stored["data"]["spec"]["template"].isNull else {
            return owner["spec"]["template"]
        }
        var template = stored["data"]["spec"]["template"]
        template["$patch"] = nil
        return template
    }

    /// Deletes the oldest revisions beyond the owner's revisionHistoryLimit (default 10), never one
    /// in `live` (the current and update revisions, and those of pods still running).
    func truncate(_ owner: JSON, live: Set<String>) async throws {
        let limit = Int(owner["spec"]["revisionHistoryLimit"].int ?? 10)
        let old = await revisions.list(controlledBy: owner)
            .filter { !live.contains($0["metadata"]["name"].string ?? "") }
            .sorted { ($0["revision"].int ?? 0) < ($1["revision"].int ?? 0) }
        for revision in old.dropLast(limit) {
            let (ns, name) = Informer.split(Informer.key(revision))
            do throws(StatusError) { try await revisionClient.delete(ns, name) } catch { if error.code != 404 { throw error } }
        }
    }
}
