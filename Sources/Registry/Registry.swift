import APIMachinery
import Foundation
import Resources
import Storage

/// The generic store: one path for every read and write of every resource (DESIGN rules 1 and 3).
/// Per-type behaviour comes from the resource's declaration (defaults, validation, columns);
/// per-cluster behaviour from admission plugins. The HTTP transport and the in-process client both
/// call this, so neither can skip a check.
public final class Registry: Sendable {
    public let catalog: ResourceCatalog
    public let store: any Store
    let admission: [any AdmissionPlugin]
    let decoded = DecodedObjects()
    /// The node agents, for what only a node has (logs, exec, port-forward).
    public let nodes = NodeConnections()
    /// What `kubectl get componentstatuses` reports: the control plane's loops and its store.
    public let components = ComponentHealth()
    /// The API server's authorizer, for the admission plugins that ask it.
    public let access = AccessReview()

    public init(store: any Store, catalog: ResourceCatalog, admission: [any AdmissionPlugin] = []) {
        self.store = store
        self.catalog = catalog
        self.admission = admission
    }

    // MARK: keys

    /// The root of every key, as upstream's (the etcd store may put its own prefix in its place).
    static let storageRoot = "/registry/"

    static func storagePrefix(_ def: ResourceDefinition) -> String {
        storageRoot + (def.storagePath ?? StoragePath.custom(group: def.group, plural: def.plural)) + "/"
    }

    func key(_ def: ResourceDefinition, _ namespace: String?, _ name: String) -> String {
        def.namespaced ? Self.storagePrefix(def) + "\(namespace ?? "")/\(name)" : Self.storagePrefix(def) + name
    }

    func prefix(_ def: ResourceDefinition, _ namespace: String?) -> String {
        if def.namespaced, let namespace, !namespace.isEmpty { return Self.storagePrefix(def) + namespace + "/" }
        return Self.storagePrefix(def)
    }

    // MARK: reads

    public func get(_ def: ResourceDefinition, namespace: String?, name: String) async throws(StatusError) -> JSON {
        guard let stored = try await load(def, namespace, name) else { throw .notFound(def.groupResource, name) }
        return try decode(stored, as: def)
    }

    func load(_ def: ResourceDefinition, _ namespace: String?, _ name: String) async throws(StatusError) -> StoredObject? {
        do { return try await store.get(key(def, namespace, name)) } catch { throw Self.status(error, def, name) }
    }

    func decode(_ stored: StoredObject) throws(StatusError) -> JSON {
        if let known = decoded.object(key: stored.key, revision: stored.revision) { return known }
        do { return try JSON.parse(stored.value) } catch {
            throw .internalError("stored object \(stored.key) is not valid JSON: \(error)")
        }
    }

    /// A stored object in the form the resource serves it.
    func decode(_ stored: StoredObject, as def: ResourceDefinition) throws(StatusError) -> JSON {
        let obj = try decode(stored)
        return def.storedAs.map { $0.fromStorage(obj) } ?? obj
    }

    /// The stored bytes in the form the resource serves them: as they are, unless converted.
    func serialized(_ stored: StoredObject, as def: ResourceDefinition) throws(StatusError) -> Data {
        def.storedAs == nil ? stored.value : try decode(stored, as: def).data()
    }

    /// Remembers a write under its key in the stored form, which is what a later read decodes.
    func remember(_ obj: JSON, _ def: ResourceDefinition, key: String, revision: Int64) {
        decoded.remember(def.storedAs.map { $0.toStorage(obj) } ?? obj, key: key, revision: revision)
    }

    /// A page of a list. Items stay serialized unless a selector needs to look inside them, so a
    /// plain list costs no parsing.
    public struct ListPage: Sendable {
        public var items: [Data]
        public var resourceVersion: Int64
        public var continueToken: String?
        public var remainingItemCount: Int?
    }

    public func list(_ def: ResourceDefinition, namespace: String?, options: ListOptions) async throws(StatusError) -> ListPage {
        let prefix = prefix(def, namespace)
        var startAfter: String?
        var revision: Int64?
        if let token = options.continueToken, !token.isEmpty {
            let decoded = try ContinueToken.decode(token)
            startAfter = prefix + decoded.startAfter
            revision = decoded.revision
        } else if let rv = options.resourceVersion, !rv.isEmpty, rv != "0" {
            guard let n = Int64(rv) else { throw .badRequest("invalid resource version: \(rv)") }
            if options.resourceVersionMatch == "Exact" {
                revision = n
            } else {
                let current = await store.currentRevision()
                if n > current {
                    throw StatusError(code: 504, reason: "Timeout", message: "Too large resource version: \(n), current: \(current)",
                                      details: ["causes": [["reason": "ResourceVersionTooLarge", "message": "Too large resource version"]], "retryAfterSeconds": 1])
                }
            }
        } else if options.resourceVersionMatch == "Exact" {
            throw .badRequest("resourceVersionMatch: Forbidden: resourceVersionMatch \"Exact\" is forbidden for resourceVersion \"\(options.resourceVersion ?? "")\"")
        }
        let filter = try ObjectFilter(def, options)
        let limit = options.limit.flatMap { $0 > 0 ? $0 : nil }
        var items: [Data] = []
        var lastKey: String?
        var atRevision: Int64 = 0
        var more = false
        // Keep reading until the page is full of matches or the keys run out, as upstream does.
        repeat {
            let want = limit.map { $0 - items.count }
            let page: ListResult
            do { page = try await store.list(prefix: prefix, startAfter: startAfter, limit: want, at: revision) } catch {
                if case .compacted = error, options.continueToken != nil {
                    throw .expired("The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.")
                }
                throw Self.status(error, def, "")
            }
            atRevision = page.revision
            revision = page.revision
            for o in page.objects where try filter.matches(o, self) { items.append(try serialized(o, as: def)) }
            lastKey = page.objects.last?.key ?? lastKey
            startAfter = lastKey
            more = page.hasMore
        } while more && limit != nil && items.count < limit! && filter.active
        var token: String?
        if more, let lastKey {
            token = ContinueToken(revision: atRevision, startAfter: String(lastKey.dropFirst(prefix.count))).encoded()
        }
        var remaining: Int?
        if more, !filter.active, let lastKey, revision == (await store.currentRevision()) {
            remaining = await store.count(prefix: prefix, after: lastKey)
        }
        return ListPage(items: items, resourceVersion: atRevision, continueToken: token, remainingItemCount: remaining)
    }

    // MARK: writes

    public func create(_ def: ResourceDefinition, namespace: String?, body: JSON, options: WriteOptions = .init()) async throws(StatusError) -> JSON {
        guard def.verbs.contains("create") else { throw .methodNotAllowed() }
        var obj = try checkTypeMeta(body, def)
        try checkTypes(obj, def)
        try dropUnknownFields(&obj, def, options)
        var meta = obj["metadata"]
        if def.namespaced {
            let bodyNS = meta["namespace"].string ?? ""
            if !bodyNS.isEmpty, let namespace, bodyNS != namespace {
                throw .badRequest("the namespace of the provided object does not match the namespace sent on the request")
            }
            meta["namespace"] = .string(namespace ?? bodyNS)
        } else {
            meta["namespace"] = .null
        }
        let generateName = (meta["name"].string ?? "").isEmpty ? meta["generateName"].string.flatMap { $0.isEmpty ? nil : $0 } : nil
        if let generateName { meta["name"] = .string(ObjectMetaRules.generatedName(generateName)) }
        meta["uid"] = .string(ObjectMetaRules.newUID())
        meta["creationTimestamp"] = .string(ObjectMetaRules.nowString())
        meta["deletionTimestamp"] = .null
        meta["deletionGracePeriodSeconds"] = .null
        meta["generation"] = def.tracksGeneration ? .int(1) : .null
        meta["selfLink"] = .null
        obj["metadata"] = meta
        let name = meta["name"].string ?? ""

        def.strategy.prepareForCreate(&obj)
        def.strategy.recordRequester?(&obj, options.user)
        def.strategy.defaults(&obj)
        if let warning = def.storedOnlyWarning { Warnings.record(warning) }
        var request = AdmissionRequest(operation: .create, def: def, object: obj, old: nil, subresource: nil, dryRun: options.dryRun, registry: self,
                                       user: options.user, fieldManager: options.fieldManager)
        try await admit(&request)
        obj = request.object
        try validateCreate(obj, def)
        try await validateAdmission(request)
        if let manager = options.fieldManager, obj["metadata"]["managedFields"].isNull {
            obj["metadata"]["managedFields"] = try fieldManager.update(old: nil, new: obj, def: def, subresource: nil,
                                                                       manager: manager, now: ObjectMetaRules.nowString())
        }
        if options.dryRun {
            if try await load(def, namespace, name) != nil { throw .alreadyExists(def.groupResource, name) }
            return obj
        }
        // Upstream's storage layer refuses a resourceVersion it can read as a revision (one it
        // cannot read, or "0", it ignores) -- after validation, so an invalid object is a 422 first.
        if let rv = obj["metadata"]["resourceVersion"].string, let revision = UInt64(rv), revision != 0 {
            for plugin in admission { await plugin.release(def, object: obj) }
            throw .internalError("resourceVersion should not be set on objects to be created")
        }
        var prepared = obj
        // A generated name that is taken is generated again, up to eight tries in all, as
        // upstream's apiserver does: five random characters collide often among thousands of pods.
        var attempts = 1
        while true {
            let name = prepared["metadata"]["name"].string ?? ""
            do {
                let stored = try await store.create(key(def, meta["namespace"].string, name), encode: Self.stamped(prepared, def))
                var created = prepared
                created["metadata"]["resourceVersion"] = .string(String(stored.revision))
                remember(created, def, key: stored.key, revision: stored.revision)
                return created
            } catch {
                if let generateName, attempts < 8, case StorageError.keyExists = error {
                    attempts += 1
                    prepared["metadata"]["name"] = .string(ObjectMetaRules.generatedName(generateName))
                    continue
                }
                if Self.dropsManagedFields(error, &prepared, options) { continue }
                for plugin in admission { await plugin.release(def, object: prepared) }
                throw Self.status(error, def, name)
            }
        }
    }

    /// What a write addresses besides the object itself. binding (pods/binding) is the
    /// scheduler's: it sets the node, which a pod's own update may not change.
    public enum Subresource: String, Sendable {
        case status, scale, binding
        /// A pod's: what writes its spec.ephemeralContainers and nothing else.
        case ephemeralContainers = "ephemeralcontainers"
        /// A CertificateSigningRequest's: what writes its Approved or Denied condition.
        case approval

        /// Whether the write is to the status (all of it, or a CSR's approval part).
        var writesStatus: Bool { self == .status || self == .approval }
    }

    /// PUT: replaces the object (or its status) as a whole. Returns the new object and whether it
    /// was created (resources upstream allows to be created by an update).
    public func update(_ def: ResourceDefinition, namespace: String?, name: String, body: JSON, subresource: Subresource? = nil,
                       options: WriteOptions = .init()) async throws(StatusError) -> (JSON, created: Bool) {
        guard def.verbs.contains("update") else { throw .methodNotAllowed() }
        var incoming = try checkTypeMeta(body, def)
        let bodyName = incoming["metadata"]["name"].string ?? ""
        if bodyName.isEmpty { incoming["metadata"]["name"] = .string(name) }
        else if bodyName != name {
            throw .badRequest("the name of the object (\(bodyName)) does not match the name on the URL (\(name))")
        }
        if def.namespaced {
            let bodyNS = incoming["metadata"]["namespace"].string ?? ""
            if !bodyNS.isEmpty, bodyNS != namespace {
                throw .badRequest("the namespace of the provided object does not match the namespace sent on the request")
            }
        }
        let expected = incoming["metadata"]["resourceVersion"].string.flatMap { $0.isEmpty ? nil : $0 }
        if let expected, Int64(expected) == nil { throw .badRequest("invalid resourceVersion: \(expected)") }
        let result = try await guaranteedUpdate(def, namespace, name, options: options, subresource: subresource, createIfMissing: subresource == nil && Self.allowsCreateOnUpdate(def) && expected == nil
                                                ? incoming : nil) { old, oldRV throws(StatusError) in
            if let expected, Int64(expected) != oldRV { throw .staleResourceVersion(def.groupResource, name) }
            switch subresource {
            case nil:
                var obj = incoming
                if def.hasStatus { obj["status"] = old["status"] }
                return obj
            case .status, .approval:
                var obj = old
                obj["status"] = incoming["status"]
                return obj
            case .ephemeralContainers:
                var obj = old
                obj["spec"]["ephemeralContainers"] = incoming["spec"]["ephemeralContainers"]
                return obj
            case .scale, .binding:
                throw .methodNotAllowed()
            }
        }
        return result
    }

    /// Server-side apply (application/apply-patch+yaml): merges the applied configuration into the
    /// object, or creates it, with field ownership as FieldManager.apply decides.
    public func apply(_ def: ResourceDefinition, namespace: String?, name: String, applied body: JSON, force: Bool,
                      options: WriteOptions) async throws(StatusError) -> (JSON, created: Bool) {
        guard def.verbs.contains("patch") else { throw .methodNotAllowed() }
        guard let manager = options.fieldManager, !manager.isEmpty else {
            throw .invalid(kind: "PatchOptions", group: "meta.k8s.io", name: "", [.required("fieldManager", "is required for apply patch")])
        }
        var applied = try checkTypeMeta(body, def)
        try dropUnknownFields(&applied, def, options)
        let bodyName = applied["metadata"]["name"].string ?? ""
        if bodyName.isEmpty { applied["metadata"]["name"] = .string(name) }
        else if bodyName != name {
            throw .badRequest("the name of the object (\(bodyName)) does not match the name on the URL (\(name))")
        }
        if def.namespaced, let ns = applied["metadata"]["namespace"].string, !ns.isEmpty, ns != namespace {
            throw .badRequest("the namespace of the provided object does not match the namespace sent on the request")
        }
        if !applied["metadata"]["managedFields"].isNull {
            throw .badRequest("metadata.managedFields must be nil")
        }
        let fm = fieldManager, now = ObjectMetaRules.nowString()
        let initial = try fm.apply(live: nil, applied: applied, def: def, manager: manager, force: force, now: now)
        var options = options
        options.isApply = true
        return try await guaranteedUpdate(def, namespace, name, options: options, tracksManagedFields: false,
                                          createIfMissing: initial) { old, revision throws(StatusError) in
            try Self.checkPrecondition(applied, revision: revision, def, name)
            var obj = try fm.apply(live: old, applied: applied, def: def, manager: manager, force: force, now: now)
            if def.hasStatus { obj["status"] = old["status"] }
            return obj
        }
    }

    /// A patch whose result does not decode: 422 on the field `patch`, as upstream's patcher words
    /// it: a strategic merge patch as Go prints the patch map, the others as the patched object.
    static func patchError(_ form: PatchForm, _ patched: JSON, _ mismatch: TypedDecoding.Mismatch) -> StatusError {
        let value: String, detail: String
        switch form {
        case .strategic(let body):
            value = GoValue.render(body)
            detail = mismatch.goType.map { "unrecognized type: \($0)" } ?? mismatch.message
        case .merge, .json:
            value = patched.jsonString
            detail = mismatch.message
        }
        return .invalid(kind: "", group: "", name: "", [.invalid("patch", .string(value), detail)])
    }

    /// A resourceVersion the patch itself set (`kubectl annotate --resource-version`, a merge
    /// patch carrying the one the client read) is a precondition, as upstream's patcher treats it.
    static func checkPrecondition(_ patched: JSON, revision: Int64, _ def: ResourceDefinition, _ name: String) throws(StatusError) {
        guard let rv = patched["metadata"]["resourceVersion"].string, !rv.isEmpty, rv != String(revision) else { return }
        guard Int64(rv) != nil else { throw .badRequest("invalid resourceVersion: \(rv)") }
        throw .staleResourceVersion(def.groupResource, name)
    }

    /// Resources that upstream lets an update create when the object is missing.
    static func allowsCreateOnUpdate(_ def: ResourceDefinition) -> Bool {
        let groups: Set<String> = ["rbac.authorization.k8s.io", "coordination.k8s.io", "events.k8s.io"]
        return groups.contains(def.group) || (def.group.isEmpty && ["services", "endpoints", "events", "limitranges"].contains(def.plural))
    }

    /// Read, transform, write with the read revision as precondition; retried when another writer
    /// got in between, so a transform always sees the object it replaces.
    /// `typesChecked`: the transform has already checked the new object's value types (a patch
    /// does, to answer in the patcher's words), so they are not walked twice.
    func guaranteedUpdate(_ def: ResourceDefinition, _ namespace: String?, _ name: String, options: WriteOptions,
                          subresource: Subresource? = nil, tracksManagedFields: Bool = true, createIfMissing: JSON? = nil,
                          typesChecked: Bool = false,
                          _ transform: (JSON, Int64) throws(StatusError) -> JSON) async throws(StatusError) -> (JSON, created: Bool) {
        for _ in 0..<16 {
            guard let stored = try await load(def, namespace, name) else {
                if let createIfMissing {
                    var body = createIfMissing
                    body["metadata"]["resourceVersion"] = .null
                    return (try await create(def, namespace: namespace, body: body, options: options), true)
                }
                throw .notFound(def.groupResource, name)
            }
            let old = try decode(stored, as: def)
            var obj = try transform(old, stored.revision)
            if !typesChecked { try checkTypes(obj, def) }
            try dropUnknownFields(&obj, def, options)
            try prepareUpdate(&obj, old: old, def)
            def.strategy.prepareForUpdate?(&obj, old, subresource?.rawValue)
            var request = AdmissionRequest(operation: .update, def: def, object: obj, old: old, subresource: subresource,
                                           dryRun: options.dryRun, registry: self, user: options.user, fieldManager: options.fieldManager)
            try await admit(&request)
            obj = request.object
            try validateUpdate(obj, old: old, def, subresource: subresource)
            try await validateAdmission(request)
            let sentManagedFields = obj["metadata"]["managedFields"]
            if sentManagedFields.isNull { obj["metadata"]["managedFields"] = old["metadata"]["managedFields"] }
            // A no-op write changes nothing: same resourceVersion, no watch event.
            var comparable = obj
            comparable["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
            if comparable == old { return (old, false) }
            // managedFields a client rewrote on purpose are kept as sent.
            if tracksManagedFields, let manager = options.fieldManager,
               sentManagedFields.isNull || sentManagedFields == old["metadata"]["managedFields"] {
                obj["metadata"]["managedFields"] = try fieldManager.update(old: old, new: obj, def: def, subresource: subresource,
                                                                           manager: manager, now: ObjectMetaRules.nowString())
            }
            if options.dryRun { return (obj, false) }
            if old["metadata"]["deletionTimestamp"].string != nil, (old["metadata"]["deletionGracePeriodSeconds"].int ?? 0) == 0,
               !Self.hasFinalizers(def, obj) {
                // The last finalizer is gone from an object being deleted: it goes now, unless a
                // grace period still runs (a pod's node agent ends it), as upstream's store decides.
                do {
                    let event = try await store.delete(stored.key, expectedRevision: stored.revision)
                    var final = obj
                    final["metadata"]["resourceVersion"] = .string(String(event.revision))
                    return (final, false)
                } catch StorageError.conflict { continue } catch { throw Self.status(error, def, name) }
            }
            var prepared = obj
            while true {
                do {
                    let updated = try await store.update(stored.key, expectedRevision: stored.revision, encode: Self.stamped(prepared, def))
                    var result = prepared
                    result["metadata"]["resourceVersion"] = .string(String(updated.revision))
                    remember(result, def, key: updated.key, revision: updated.revision)
                    return (result, false)
                } catch StorageError.conflict {
                    break
                } catch let error as StatusError {
                    throw error
                } catch {
                    if Self.dropsManagedFields(error, &prepared, options) { continue }
                    throw Self.status(error, def, name)
                }
            }
        }
        throw .conflict(def.groupResource, name, "the object has been modified too many times concurrently; please try again")
    }

    /// Carries what the server owns from the old object into the new one and fills in defaults.
    func prepareUpdate(_ obj: inout JSON, old: JSON, _ def: ResourceDefinition) throws(StatusError) {
        obj = try checkTypeMeta(obj, def)
        let oldMeta = old["metadata"]
        for field in ["uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "namespace", "name"] {
            obj["metadata"][field] = oldMeta[field]
        }
        obj["metadata"]["selfLink"] = .null
        if let g = oldMeta["generation"].int {
            let changed = ObjectMetaRules.specPart(obj) != ObjectMetaRules.specPart(old)
            obj["metadata"]["generation"] = .int(changed ? g + 1 : g)
        }
        def.strategy.defaults(&obj)
    }

    /// The object's own rules and upstream's update rules (immutable fields), after mutating admission.
    func validateUpdate(_ obj: JSON, old: JSON, _ def: ResourceDefinition, subresource: Subresource? = nil) throws(StatusError) {
        // Upstream's update validation: what may not change first, then the object's own rules.
        // Status and binding writes carry the object's spec as it was: only metadata is checked.
        var errors = ObjectMetaRules.validate(obj, def) + ObjectMetaRules.validateUpdate(obj, old)
        if subresource == nil || subresource == .scale {
            errors += def.strategy.validateUpdate(obj, old) + def.strategy.validate(obj)
        }
        if subresource == .ephemeralContainers { errors += PodValidation.ephemeralContainersUpdate(obj, old) }
        if subresource?.writesStatus == true, let validateStatus = def.strategy.validateStatusUpdate { errors += validateStatus(obj, old) }
        if !errors.isEmpty {
            throw .invalid(kind: def.kind, group: def.group, name: obj["metadata"]["name"].string ?? "", errors)
        }
    }

    /// A client's patch, for the words of errors about what it produced.
    public enum PatchForm: Sendable {
        case strategic(JSON)
        case merge
        case json
    }

    /// Applies a patch function to the current object (or its status or scale) and writes the result.
    public func patch(_ def: ResourceDefinition, namespace: String?, name: String, subresource: Subresource? = nil,
                      options: WriteOptions = .init(), form: PatchForm? = nil,
                      _ apply: @Sendable (JSON) throws(StatusError) -> JSON) async throws(StatusError) -> JSON {
        guard def.verbs.contains("patch") else { throw .methodNotAllowed() }
        // A client's patch is type-checked as it produced it (whole object, before the status is
        // carried over), in the patcher's words; a scale patch produces a Scale, checked after.
        let checksPatch = form != nil && subresource != .scale
        let (obj, _) = try await guaranteedUpdate(def, namespace, name, options: options, subresource: subresource,
                                                  typesChecked: checksPatch) { old, revision throws(StatusError) in
            switch subresource {
            case .scale:
                let scale = try Self.scale(of: old, def)
                return try Self.applyScale(try apply(scale), to: old, def)
            case .binding:
                throw .methodNotAllowed()
            case nil, .status, .approval, .ephemeralContainers:
                var patched = try apply(old)
                if checksPatch, let form, let message = def.protobufMessage, let mismatch = TypedDecoding.firstMismatch(patched, message: message) {
                    throw Self.patchError(form, patched, mismatch)
                }
                try Self.checkPrecondition(patched, revision: revision, def, name)
                if subresource?.writesStatus == true {
                    var obj = old
                    obj["status"] = patched["status"]
                    return obj
                }
                if subresource == .ephemeralContainers {
                    var obj = old
                    obj["spec"]["ephemeralContainers"] = patched["spec"]["ephemeralContainers"]
                    return obj
                }
                if def.hasStatus { patched["status"] = old["status"] }
                return patched
            }
        }
        return subresource == .scale ? try Self.scale(of: obj, def) : obj
    }

    // MARK: scale

    public func getScale(_ def: ResourceDefinition, namespace: String?, name: String) async throws(StatusError) -> JSON {
        try Self.scale(of: try await get(def, namespace: namespace, name: name), def)
    }

    public func updateScale(_ def: ResourceDefinition, namespace: String?, name: String, body: JSON,
                            options: WriteOptions = .init()) async throws(StatusError) -> JSON {
        let expected = body["metadata"]["resourceVersion"].string.flatMap { $0.isEmpty ? nil : Int64($0) }
        let (obj, _) = try await guaranteedUpdate(def, namespace, name, options: options, subresource: .scale) { old, rv throws(StatusError) in
            if let expected, expected != rv { throw .staleResourceVersion(def.groupResource, name) }
            return try Self.applyScale(body, to: old, def)
        }
        return try Self.scale(of: obj, def)
    }

    static func scale(of obj: JSON, _ def: ResourceDefinition) throws(StatusError) -> JSON {
        guard let s = def.scale else { throw .notFoundPath() }
        let meta = obj["metadata"]
        var status: JSON = ["replicas": .int(obj[path: s.statusReplicasPath].int ?? 0)]
        if let path = s.labelSelectorPath {
            let sel = obj[path: path]
            if let str = sel.string { status["selector"] = .string(str) }
            else if !sel.isNull, let parsed = try? LabelSelector.fromStructured(sel) { status["selector"] = .string(parsed.description) }
        }
        return [
            "kind": "Scale", "apiVersion": "autoscaling/v1",
            "metadata": ["name": meta["name"], "namespace": meta["namespace"], "uid": meta["uid"],
                         "resourceVersion": meta["resourceVersion"], "creationTimestamp": meta["creationTimestamp"]],
            "spec": ["replicas": .int(obj[path: s.specReplicasPath].int ?? 0)],
            "status": status,
        ]
    }

    static func applyScale(_ scale: JSON, to obj: JSON, _ def: ResourceDefinition) throws(StatusError) -> JSON {
        guard let s = def.scale else { throw .notFoundPath() }
        guard let replicas = scale["spec"]["replicas"].int else {
            throw .invalid(kind: "Scale", group: "autoscaling", name: obj["metadata"]["name"].string ?? "", [.required("spec.replicas")])
        }
        if replicas < 0 {
            throw .invalid(kind: "Scale", group: "autoscaling", name: obj["metadata"]["name"].string ?? "",
                           [.invalid("spec.replicas", .int(replicas), "must be greater than or equal to 0")])
        }
        var o = obj
        o[path: s.specReplicasPath] = .int(replicas)
        return o
    }

    // MARK: delete

    public enum DeleteOutcome: Sendable {
        /// Gone now; carries the last state.
        case deleted(JSON)
        /// Marked for deletion (finalizers or a grace period remain); carries the marked object.
        case pending(JSON)
    }

    public func delete(_ def: ResourceDefinition, namespace: String?, name: String, options: DeleteOptions = .init()) async throws(StatusError) -> DeleteOutcome {
        guard def.verbs.contains("delete") else { throw .methodNotAllowed() }
        if let p = options.propagationPolicy, !["Orphan", "Background", "Foreground"].contains(p) {
            throw .invalid(kind: "DeleteOptions", group: "", name: "", [.notSupported("propagationPolicy", .string(p), ["Foreground", "Background", "Orphan", "nil"])])
        }
        if let g = options.gracePeriodSeconds, g < 0 {
            throw .invalid(kind: "DeleteOptions", group: "", name: "", [.invalid("gracePeriodSeconds", .int(g), "must be greater than or equal to 0")])
        }
        for _ in 0..<16 {
            guard let stored = try await load(def, namespace, name) else { throw .notFound(def.groupResource, name) }
            var obj = try decode(stored, as: def)
            let meta = obj["metadata"]
            if let uid = options.preconditionUID, uid != meta["uid"].string {
                throw .conflict(def.groupResource, name, "Precondition failed: UID in precondition: \(uid), UID in object meta: \(meta["uid"].string ?? "")")
            }
            if let rv = options.preconditionResourceVersion, rv != meta["resourceVersion"].string {
                throw .conflict(def.groupResource, name, "Precondition failed: ResourceVersion in precondition: \(rv), ResourceVersion in object meta: \(meta["resourceVersion"].string ?? "")")
            }
            var request = AdmissionRequest(operation: .delete, def: def, object: obj, old: obj, subresource: nil, dryRun: options.dryRun, registry: self,
                                           user: options.user)
            try await admit(&request)
            try await validateAdmission(request)

            // Foreground and orphan deletion are carried out by the garbage collector, which the
            // object's finalizer waits for, as upstream's registry arranges.
            if let finalizer = Self.propagationFinalizers[options.propagationPolicy ?? ""] {
                var finalizers = obj["metadata"]["finalizers"].array ?? []
                if !finalizers.contains(.string(finalizer)) {
                    finalizers.append(.string(finalizer))
                    obj["metadata"]["finalizers"] = .array(finalizers)
                }
            }
            let finalizing = Self.hasFinalizers(def, obj)
            let grace = gracePeriod(def, obj, options)
            if finalizing || grace > 0 {
                // Mark rather than remove: finalizers or the node agent finish the deletion. A second
                // delete only matters when it shortens the grace period.
                if meta["deletionTimestamp"].string != nil, obj["metadata"]["finalizers"] == meta["finalizers"],
                   finalizing || grace >= (meta["deletionGracePeriodSeconds"].int ?? 0) {
                    return .pending(obj)
                }
                var marked = obj
                marked["metadata"]["deletionTimestamp"] = .string(APITime.format(Date().addingTimeInterval(Double(grace))))
                marked["metadata"]["deletionGracePeriodSeconds"] = .int(grace)
                def.strategy.markForDeletion?(&marked)
                if options.dryRun { return .pending(marked) }
                let prepared = marked
                do {
                    let updated = try await store.update(stored.key, expectedRevision: stored.revision, encode: Self.stamped(prepared, def))
                    return .pending(try decode(updated, as: def))
                } catch StorageError.conflict { continue } catch { throw Self.status(error, def, name) }
            }
            if options.dryRun { return .deleted(obj) }
            do {
                let event = try await store.delete(stored.key, expectedRevision: stored.revision)
                var last = try decode(event.object, as: def)
                last["metadata"]["resourceVersion"] = .string(String(event.revision))
                for plugin in admission { await plugin.release(def, object: last) }
                return .deleted(last)
            } catch StorageError.conflict { continue } catch { throw Self.status(error, def, name) }
        }
        throw .conflict(def.groupResource, name, "the object has been modified too many times concurrently; please try again")
    }

    static let propagationFinalizers = ["Foreground": "foregroundDeletion", "Orphan": "orphan"]

    /// Whether something still has to finish the object's deletion: metadata finalizers, or what
    /// the resource's strategy says (a namespace's spec finalizers).
    static func hasFinalizers(_ def: ResourceDefinition, _ obj: JSON) -> Bool {
        !(obj["metadata"]["finalizers"].array ?? []).isEmpty || def.strategy.hasPendingFinalizers?(obj) == true
    }

    func gracePeriod(_ def: ResourceDefinition, _ obj: JSON, _ options: DeleteOptions) -> Int64 {
        def.strategy.gracePeriod?(obj, options.gracePeriodSeconds) ?? 0
    }

    public func deleteCollection(_ def: ResourceDefinition, namespace: String?, listOptions: ListOptions,
                                 options: DeleteOptions) async throws(StatusError) -> [JSON] {
        guard def.verbs.contains("deletecollection") else { throw .methodNotAllowed() }
        var all = listOptions
        all.limit = nil
        all.continueToken = nil
        let page = try await list(def, namespace: namespace, options: all)
        var out: [JSON] = []
        for data in page.items {
            guard let obj = try? JSON.parse(data), let name = obj["metadata"]["name"].string else { continue }
            do {
                switch try await delete(def, namespace: obj["metadata"]["namespace"].string, name: name, options: options) {
                case .deleted(let o), .pending(let o): out.append(o)
                }
            } catch where error.code == 404 { continue }
        }
        return out
    }

    // MARK: checks

    /// The bytes to store for an object at the revision the write takes: its resourceVersion.
    static func stamped(_ obj: JSON, _ def: ResourceDefinition) -> @Sendable (Int64?) -> Data {
        let stored = def.storedAs.map { $0.toStorage(obj) } ?? obj
        return { rev in
            var o = stored
            o["metadata"]["resourceVersion"] = rev.map { .string(String($0)) } ?? .null
            return o.data()
        }
    }

    func checkTypeMeta(_ body: JSON, _ def: ResourceDefinition) throws(StatusError) -> JSON {
        guard case .object = body else {
            throw .badRequest("the body of the request was not a JSON object")
        }
        var obj = body
        if let v = body["apiVersion"].string, !v.isEmpty, v != def.apiVersion {
            throw .badRequest("the API version in the data (\(v)) does not match the expected API version (\(def.apiVersion))")
        }
        if let k = body["kind"].string, !k.isEmpty, k != def.kind {
            throw .badRequest("the kind in the data (\(k)) does not match the expected kind (\(def.kind))")
        }
        obj["apiVersion"] = .string(def.apiVersion)
        obj["kind"] = .string(def.kind)
        if case .object = obj["metadata"] {} else if obj["metadata"].isNull { obj["metadata"] = .emptyObject } else {
            throw .badRequest("metadata must be an object")
        }
        return obj
    }

    /// fieldValidation: fields the type's schema does not know are dropped, and Strict refuses
    /// them (and keys the body repeated), Warn (the default) reports them, Ignore says nothing,
    /// with upstream's wording. A built-in type is held to upstream's definition of it; a custom
    /// resource to its CRD's schema.
    func dropUnknownFields(_ obj: inout JSON, _ def: ResourceDefinition, _ options: WriteOptions) throws(StatusError) {
        var unknown: [String] = []
        if let prune = def.strategy.pruneUnknownFields {
            unknown = prune(&obj)
        } else if let name = def.schemaName, let schema = UpstreamSchemas.definitions[name] {
            unknown = SchemaPruner.prune(&obj, schema, root: true, definitions: UpstreamSchemas.definitions)
        }
        let named = options.duplicateFields.map { "duplicate field \"\($0)\"" } + unknown.map { "unknown field \"\($0)\"" }
        if named.isEmpty { return }
        switch options.fieldValidation ?? "Warn" {
        case "Strict":
            throw .badRequest("\(def.kind) in version \"\(def.version)\" cannot be handled as a \(def.kind): strict decoding error: "
                              + named.joined(separator: ", "))
        case "Warn": named.forEach(Warnings.record)
        default: break
        }
    }

    var fieldManager: FieldManager { FieldManager(typed: TypedFields(definitions: catalog.schemas)) }

    func validateCreate(_ obj: JSON, _ def: ResourceDefinition) throws(StatusError) {
        let errors = ObjectMetaRules.validate(obj, def) + def.strategy.validate(obj) + def.strategy.validateCreate(obj)
        if !errors.isEmpty {
            let meta = obj["metadata"]
            let name = meta["name"].string.flatMap { $0.isEmpty ? nil : $0 } ?? meta["generateName"].string ?? ""
            throw .invalid(kind: def.kind, group: def.group, name: name, errors)
        }
    }

    /// The mutating phase of every admission plugin, in the chain's order.
    func admit(_ request: inout AdmissionRequest) async throws(StatusError) {
        for plugin in admission { try await plugin.admit(&request) }
    }

    /// The validating phase of every admission plugin, in the chain's order.
    func validateAdmission(_ request: AdmissionRequest) async throws(StatusError) {
        for plugin in admission { try await plugin.validate(request) }
    }

    /// Values whose JSON type cannot be the Go field's: 400, in the decoder's words.
    func checkTypes(_ obj: JSON, _ def: ResourceDefinition) throws(StatusError) {
        guard let message = def.protobufMessage, let error = TypedDecoding.firstError(obj, message: message) else { return }
        throw .badRequest("\(def.kind) in version \"\(def.version)\" cannot be handled as a \(def.kind): \(error)")
    }

    /// An object too large for the store is written again without its managedFields (which can
    /// be large), as upstream's handlers do for every write but an apply. True if it dropped them.
    static func dropsManagedFields(_ error: any Error, _ obj: inout JSON, _ options: WriteOptions) -> Bool {
        guard case StorageError.requestTooLarge = error, !options.isApply, !obj["metadata"]["managedFields"].isNull else { return false }
        obj["metadata"]["managedFields"] = nil
        return true
    }

    static func status(_ error: any Error, _ def: ResourceDefinition, _ name: String) -> StatusError {
        if let e = error as? StatusError { return e }
        guard let e = error as? StorageError else { return .internalError("\(error)") }
        switch e {
        case .keyExists: return .alreadyExists(def.groupResource, name)
        case .notFound: return .notFound(def.groupResource, name)
        case .conflict: return .staleResourceVersion(def.groupResource, name)
        case .compacted(let requested, let compacted):
            return .expired("too old resource version: \(requested) (\(compacted))")
        case .futureRevision(let requested, let current):
            return StatusError(code: 504, reason: "Timeout", message: "Too large resource version: \(requested), current: \(current)")
        case .unsupportedFormat(let found, let supported):
            return .internalError("store format \(found) is newer than this server's \(supported)")
        case .io(let message): return .internalError(message)
        case .timeout: return StatusError(code: 504, reason: "Timeout", message: "Timeout: request did not complete within requested timeout - context deadline exceeded")
        // What upstream's apiserver passes on from etcd, unconverted: a 500 without a reason.
        case .requestTooLarge: return StatusError(code: 500, reason: "", message: e.description)
        }
    }
}
