import APIMachinery
import Foundation
import Hummingbird
import NIOCore
import Registry
import Resources

/// One request on a resource path: picks the verb from method and path, reads options and body,
/// calls the registry, and encodes the answer as JSON, a Table or a watch stream.
struct ResourceRequest {
    let handler: APIHandler
    let def: ResourceDefinition
    let path: ResourcePath
    let query: Query
    let accept: [MediaType]
    let userAgent: String?
    /// Who asks (after impersonation).
    let user: UserInfo
    /// The channel the answer goes out on.
    var connection: (any Channel)? = nil

    var registry: Registry { handler.registry }
    var namespace: String? { def.namespaced ? path.namespace : nil }

    /// A Table when the first acceptable type asks for one.
    var wantsTable: Bool {
        accept.first { $0.acceptsJSON }?.asKind(group: "meta.k8s.io") == "Table"
    }

    func serve(_ request: inout Request) async throws(StatusError) -> Response {
        if !accept.contains(where: \.acceptsJSON) {
            throw .notAcceptable(["application/json", "application/yaml", "application/vnd.kubernetes.protobuf"])
        }
        if isReview { return try await serveReview(&request) }
        if isResourceMetrics { return try await serveResourceMetrics(request.method) }
        if isComponentStatus { return try await serveComponentStatuses(request.method) }
        if def.group.isEmpty && def.kind == "Binding" {
            // The older form of pods/binding: the pod is named in the body.
            guard request.method == .post, path.name == nil else { throw .methodNotAllowed() }
            return try await bind(&request, pod: nil)
        }
        if let sub = path.subresource { return try await serveSubresource(sub, &request) }
        let method = request.method
        if let name = path.name {
            switch method {
            case .get:
                let obj = try await registry.get(def, namespace: namespace, name: name)
                return render(obj)
            case .put:
                let (body, duplicates) = try await readObject(&request)
                let (obj, created) = try await registry.update(def, namespace: namespace, name: name, body: body,
                                                               options: try writeOptions(duplicateFields: duplicates))
                return APIHandler.json(obj, status: created ? .created : .ok)
            case .patch where MediaType(Substring(request.headers[.contentType] ?? "")).type == Self.applyPatch:
                let body = try await readBody(&request)
                let (obj, created) = try await registry.apply(def, namespace: namespace, name: name, applied: body,
                                                              force: query.bool("force"), options: try applyOptions())
                return APIHandler.json(obj, status: created ? .created : .ok)
            case .patch:
                return APIHandler.json(try await patch(&request, name: name, subresource: nil))
            case .delete:
                return try await delete(&request, name: name)
            default: throw .methodNotAllowed()
            }
        }
        switch method {
        case .get:
            let options = try listOptions()
            if query.bool("watch") {
                // A watcher that falls too far behind is closed, as upstream's cacher closes it: its
                // client watches again from the last event it got, or lists again.
                let events = try await registry.watch(def, namespace: namespace, options: options,
                                                      onOverflow: { [connection] in connection?.close(promise: nil) })
                return WatchStream.response(events, def: def, table: wantsTable, includeObject: query["includeObject"])
            }
            return try await list(options)
        case .post:
            if path.namespace == nil && def.namespaced {
                throw .methodNotAllowed()
            }
            let (body, duplicates) = try await readObject(&request)
            let obj = try await registry.create(def, namespace: namespace, body: body, options: try writeOptions(duplicateFields: duplicates))
            return APIHandler.json(obj, status: .created)
        case .delete:
            var options = try deleteOptions()
            if let body = try await readOptionalBody(&request) { options.merge(body: body) }
            let deleted = try await registry.deleteCollection(def, namespace: namespace, listOptions: try listOptions(), options: options)
            let rev = await registry.store.currentRevision()
            return APIHandler.json(["kind": .string(def.listKind), "apiVersion": .string(def.apiVersion),
                                    "metadata": ["resourceVersion": .string(String(rev))], "items": .array(deleted)])
        default: throw .methodNotAllowed()
        }
    }

    func serveSubresource(_ sub: String, _ request: inout Request) async throws(StatusError) -> Response {
        guard let name = path.name else { throw .notFoundPath() }
        switch (sub, request.method) {
        case ("status", _) where def.hasStatus, ("approval", _) where def.serves(sub):
            let subresource: Registry.Subresource = sub == "status" ? .status : .approval
            switch request.method {
            case .get: return render(try await registry.get(def, namespace: namespace, name: name))
            case .put:
                let body = try await readBody(&request)
                let (obj, _) = try await registry.update(def, namespace: namespace, name: name, body: body, subresource: subresource,
                                                         options: try writeOptions())
                return APIHandler.json(obj)
            case .patch: return APIHandler.json(try await patch(&request, name: name, subresource: subresource))
            default: throw .methodNotAllowed()
            }
        case ("scale", _) where def.scale != nil:
            switch request.method {
            case .get: return APIHandler.json(try await registry.getScale(def, namespace: namespace, name: name))
            case .put:
                let body = try await readBody(&request)
                return APIHandler.json(try await registry.updateScale(def, namespace: namespace, name: name, body: body, options: try writeOptions()))
            case .patch: return APIHandler.json(try await patch(&request, name: name, subresource: .scale))
            default: throw .methodNotAllowed()
            }
        case ("ephemeralcontainers", _) where def.serves(sub):
            switch request.method {
            case .get: return render(try await registry.get(def, namespace: namespace, name: name))
            case .put:
                let body = try await readBody(&request)
                let (obj, _) = try await registry.update(def, namespace: namespace, name: name, body: body, subresource: .ephemeralContainers,
                                                         options: try writeOptions())
                return APIHandler.json(obj)
            case .patch: return APIHandler.json(try await patch(&request, name: name, subresource: .ephemeralContainers))
            default: throw .methodNotAllowed()
            }
        case ("binding", .post) where def.serves(sub):
            return try await bind(&request, pod: name)
        case ("eviction", .post) where def.serves(sub):
            let eviction = try await readBody(&request)
            try await registry.evict(def, namespace: namespace ?? "", name: name, eviction: eviction, options: try writeOptions())
            return Self.created
        case ("log", .get) where def.serves(sub):
            return try await servePodLog(name)
        case (_, .get) where def.serves(sub) && APIHandler.streamSubresources.contains(sub),
             (_, .post) where def.serves(sub) && APIHandler.streamSubresources.contains(sub):
            // Streams open only by an upgrade (StreamingHTTPChannel); a plain request is told so.
            _ = try await registry.get(def, namespace: namespace, name: name)
            throw .badRequest("Upgrade request required")
        case ("token", .post) where def.serves(sub):
            return try await serveTokenRequest(&request, serviceAccount: name)
        case ("finalize", .put) where def.serves(sub):
            let body = try await readBody(&request)
            let finalizers = body["spec"]["finalizers"]
            let obj = try await registry.patch(def, namespace: nil, name: name, options: try writeOptions()) { ns throws(StatusError) in
                var o = ns
                o["spec"]["finalizers"] = finalizers
                return o
            }
            return APIHandler.json(obj)
        default:
            throw .notFoundPath()
        }
    }

    /// A Binding's pod (the path's, else the one the body names) put on the body's target node.
    func bind(_ request: inout Request, pod: String?) async throws(StatusError) -> Response {
        let binding = try await readBody(&request)
        guard let pods = registry.catalog.lookup(group: "", version: "v1", plural: "pods") else { throw .notFoundPath() }
        _ = try await registry.bind(pods, namespace: path.namespace ?? "", name: pod ?? binding["metadata"]["name"].string ?? "",
                                    node: binding["target"]["name"].string ?? "", options: try writeOptions())
        return Self.created
    }

    /// What a create-only subresource (binding, eviction) answers: a Status of Success, 201.
    static var created: Response {
        APIHandler.bytes(StatusError.encode(["kind": "Status", "apiVersion": "v1", "metadata": .emptyObject, "status": "Success", "code": 201]),
                         status: .created)
    }

    // MARK: verbs

    func render(_ obj: JSON) -> Response {
        if wantsTable {
            return APIHandler.json(TableConvertor.table([obj], def, includeObject: query["includeObject"],
                                                        metadata: ["resourceVersion": obj["metadata"]["resourceVersion"]]))
        }
        return APIHandler.json(obj)
    }

    func list(_ options: ListOptions) async throws(StatusError) -> Response {
        let page = try await registry.list(def, namespace: namespace, options: options)
        var meta: JSON = ["resourceVersion": .string(String(page.resourceVersion))]
        if let token = page.continueToken { meta["continue"] = .string(token) }
        if let remaining = page.remainingItemCount { meta["remainingItemCount"] = .int(Int64(remaining)) }
        if wantsTable {
            var objects: [JSON] = []
            objects.reserveCapacity(page.items.count)
            for data in page.items { if let o = try? JSON.parse(data) { objects.append(o) } }
            return APIHandler.json(TableConvertor.table(objects, def, includeObject: query["includeObject"], metadata: meta))
        }
        // Items are already serialized: splice them into the list without parsing them again.
        var out: [UInt8] = []
        out.reserveCapacity(page.items.reduce(256) { $0 + $1.count + 1 })
        out += Array("{\"apiVersion\":\"\(def.apiVersion)\",\"kind\":\"\(def.listKind)\",\"metadata\":".utf8)
        out += meta.serialized()
        out += Array(",\"items\":[".utf8)
        for (i, item) in page.items.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out += item
        }
        out += Array("]}".utf8)
        return APIHandler.bytes(out)
    }

    func patch(_ request: inout Request, name: String, subresource: Registry.Subresource?) async throws(StatusError) -> JSON {
        let contentType = MediaType(Substring(request.headers[.contentType] ?? "")).type
        let accepted = ["application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml"]
            + (def.schemaName != nil && !isCustom ? ["application/strategic-merge-patch+json"] : [])
        guard accepted.contains(contentType) else { throw .unsupportedMediaType(contentType, accepted: accepted) }
        if contentType == Self.applyPatch {
            // Apply to status and scale is not served yet: only the main resource takes it.
            throw .unsupportedMediaType(contentType, accepted: accepted.filter { $0 != Self.applyPatch })
        }
        let patch = try await readBody(&request, allowArray: contentType == "application/json-patch+json")
        let schemaName = subresource == .scale ? "io.k8s.api.autoscaling.v1.Scale" : def.schemaName
        let smp = StrategicMergePatch(definitions: registry.catalog.schemas)
        let form: Registry.PatchForm = switch contentType {
        case "application/json-patch+json": .json
        case "application/merge-patch+json": .merge
        default: .strategic(patch)
        }
        return try await registry.patch(def, namespace: namespace, name: name, subresource: subresource, options: try writeOptions(),
                                        form: form) { current throws(StatusError) in
            switch contentType {
            case "application/json-patch+json": return try JSONPatch.apply(patch, to: current)
            case "application/merge-patch+json": return MergePatch.apply(patch, to: current)
            default: return try smp.apply(patch, to: current, schemaName: schemaName)
            }
        }
    }

    /// Custom resources take JSON and merge patches only, as upstream.
    var isCustom: Bool { registry.catalog.builtinSchemas[def.schemaName ?? ""] == nil }

    func delete(_ request: inout Request, name: String) async throws(StatusError) -> Response {
        var options = try deleteOptions()
        if let body = try await readOptionalBody(&request) { options.merge(body: body) }
        switch try await registry.delete(def, namespace: namespace, name: name, options: options) {
        case .pending(let obj):
            return APIHandler.json(obj)
        case .deleted(let obj):
            // Upstream answers a finished deletion of most kinds with a Success Status.
            if def.returnsDeletedObject { return APIHandler.json(obj) }
            var details: JSON = ["name": .string(name), "kind": .string(def.plural), "uid": obj["metadata"]["uid"]]
            if !def.group.isEmpty { details["group"] = .string(def.group) }
            return APIHandler.bytes(StatusError.encode(["kind": "Status", "apiVersion": "v1", "metadata": .emptyObject, "status": "Success", "details": details]))
        }
    }

    // MARK: options and bodies

    func dryRun() throws(StatusError) -> Bool {
        guard let v = query["dryRun"], !v.isEmpty else { return false }
        guard v == "All" else {
            throw .invalid(kind: "", group: "", name: "", [.notSupported("dryRun", .string(v), ["All"])])
        }
        return true
    }

    /// The manager a write is recorded under: ?fieldManager=, else the client's name from its
    /// User-Agent ("kubectl/v1.37.1 (linux/amd64) ..." → "kubectl"), as upstream does.
    func fieldManager() throws(StatusError) -> String {
        if let m = query["fieldManager"], !m.isEmpty {
            if m.utf8.count > 128 {
                throw .invalid(kind: "", group: "", name: "", [.tooLong("fieldManager", 128)])
            }
            return m
        }
        let agent = userAgent ?? ""
        let name = String(agent.prefix { $0 != "/" }.prefix(128))
        return name.isEmpty ? "unknown" : name
    }

    static let applyPatch = "application/apply-patch+yaml"

    /// Apply names its manager explicitly: no User-Agent default.
    func applyOptions() throws(StatusError) -> WriteOptions {
        var o = try writeOptions()
        o.fieldManager = query["fieldManager"].flatMap { $0.isEmpty ? nil : $0 }
        return o
    }

    func writeOptions(duplicateFields: [String] = []) throws(StatusError) -> WriteOptions {
        var o = WriteOptions(dryRun: try dryRun(), fieldManager: try fieldManager())
        o.duplicateFields = duplicateFields
        o.user = user
        if let v = query["fieldValidation"], !v.isEmpty {
            guard ["Strict", "Warn", "Ignore"].contains(v) else {
                throw .badRequest("fieldValidation parameter unsupported: \(v)")
            }
            o.fieldValidation = v
        }
        return o
    }

    func deleteOptions() throws(StatusError) -> DeleteOptions {
        var o = DeleteOptions()
        o.user = user
        o.dryRun = try dryRun()
        if let g = try query.int("gracePeriodSeconds") { o.gracePeriodSeconds = Int64(g) }
        if let p = query["propagationPolicy"], !p.isEmpty { o.propagationPolicy = p }
        if query["orphanDependents"] == "true", o.propagationPolicy == nil { o.propagationPolicy = "Orphan" }
        return o
    }

    func listOptions() throws(StatusError) -> ListOptions {
        var o = ListOptions()
        if let s = query["labelSelector"] { o.labelSelector = try LabelSelector.parse(s) }
        if let s = query["fieldSelector"] { o.fieldSelector = try FieldSelector.parse(s) }
        o.limit = try query.int("limit")
        o.continueToken = query["continue"]
        o.resourceVersion = query["resourceVersion"]
        o.resourceVersionMatch = query["resourceVersionMatch"].flatMap { $0.isEmpty ? nil : $0 }
        if let m = o.resourceVersionMatch, !["Exact", "NotOlderThan"].contains(m) {
            throw .badRequest("resourceVersionMatch: Unsupported value: \"\(m)\": supported values: \"Exact\", \"NotOlderThan\"")
        }
        o.allowWatchBookmarks = query.bool("allowWatchBookmarks")
        o.timeoutSeconds = try query.int("timeoutSeconds")
        if let s = query["sendInitialEvents"] { o.sendInitialEvents = s == "true" }
        return o
    }

    func readOptionalBody(_ request: inout Request) async throws(StatusError) -> JSON? {
        let buffer = try await collect(&request)
        if buffer.readableBytes == 0 { return nil }
        return try decode(buffer, contentType: try bodyType(request), allowArray: false)
    }

    func readBody(_ request: inout Request, allowArray: Bool = false) async throws(StatusError) -> JSON {
        let contentType = request.method == .patch ? MediaType.json : try bodyType(request)
        let buffer = try await collect(&request)
        if buffer.readableBytes == 0 { throw .badRequest("the request body is empty") }
        return try decode(buffer, contentType: contentType, allowArray: allowArray)
    }

    /// A created or replaced object, with the keys its JSON repeated (for fieldValidation).
    func readObject(_ request: inout Request) async throws(StatusError) -> (json: JSON, duplicates: [String]) {
        let contentType = try bodyType(request)
        let buffer = try await collect(&request)
        if buffer.readableBytes == 0 { throw .badRequest("the request body is empty") }
        guard contentType == MediaType.json else { return (try decode(buffer, contentType: contentType, allowArray: false), []) }
        return try parse(buffer, allowArray: false)
    }

    /// The body's media type for non-patch requests: JSON, or protobuf from typed clients.
    func bodyType(_ request: Request) throws(StatusError) -> String {
        let type = MediaType(Substring(request.headers[.contentType] ?? MediaType.json)).type
        switch type {
        case MediaType.json, "", "*/*": return MediaType.json
        case KubernetesProtobuf.mediaType where !isCustom: return type
        default: throw .unsupportedMediaType(type, accepted: !isCustom
                                                ? [MediaType.json, "application/yaml", KubernetesProtobuf.mediaType]
                                                : [MediaType.json, "application/yaml"])
        }
    }

    func collect(_ request: inout Request) async throws(StatusError) -> ByteBuffer {
        do {
            return try await request.collectBody(upTo: APIHandler.maxBodyBytes)
        } catch {
            throw .requestEntityTooLarge(limit: APIHandler.maxBodyBytes)
        }
    }

    func decode(_ buffer: ByteBuffer, contentType: String, allowArray: Bool) throws(StatusError) -> JSON {
        guard contentType == KubernetesProtobuf.mediaType else { return try parse(buffer, allowArray: allowArray).json }
        do {
            return try KubernetesProtobuf.decode(Array(buffer.readableBytesView))
        } catch {
            switch error {
            case .unknownType: throw .unsupportedMediaType(contentType, accepted: [MediaType.json, "application/yaml"])
            case .malformed(let reason): throw .badRequest("the object provided is unrecognized: \(reason)")
            }
        }
    }

    func parse(_ buffer: ByteBuffer, allowArray: Bool) throws(StatusError) -> (json: JSON, duplicates: [String]) {
        let parsed: (json: JSON, duplicates: [String])
        do { parsed = try JSON.parseNamingDuplicates(Array(buffer.readableBytesView)) } catch {
            throw .badRequest("the object provided is unrecognized: couldn't get version/kind; json parse error: \(error.message)")
        }
        switch parsed.json {
        case .object: return parsed
        case .array where allowArray: return parsed
        default: throw .badRequest("the object provided is unrecognized: the body is not a JSON object")
        }
    }
}
