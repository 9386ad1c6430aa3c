import APIMachinery
import Registry
import Resources
import Synchronization

/// /openapi/v2 and /openapi/v3 built from the resources' own schemas: what `kubectl explain` reads
/// and what tells kubectl the server validates fields itself (the fieldValidation parameter on
/// each PATCH operation, tagged with its kind).
final class OpenAPI: Sendable {
    let catalog: ResourceCatalog
    let version: String
    private let cache = Mutex<(generation: Int, documents: [String: [UInt8]])>((-1, [:]))

    init(catalog: ResourceCatalog, version: String) {
        self.catalog = catalog
        self.version = version
    }

    /// A rendered document, rebuilt when the set of resources changes (a CRD comes or goes).
    func document(_ key: String, build: () -> JSON?) -> [UInt8]? {
        let generation = catalog.generation
        if let hit = cache.withLock({ $0.generation == generation ? $0.documents[key] : nil }) { return hit }
        guard let doc = build() else { return nil }
        let bytes = doc.serialized()
        cache.withLock { c in
            if c.generation != generation { c = (generation, [:]) }
            c.documents[key] = bytes
        }
        return bytes
    }

    static let v2ProtobufType = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
    /// gnostic's openapi_v2.Document with only `swagger: "2.0"` (field 1).
    static let emptyV2Protobuf: [UInt8] = [0x0A, 0x03] + Array("2.0".utf8)

    func v2() -> [UInt8] {
        document("v2") {
            let all = catalog.schemas
            return ["swagger": "2.0", "info": ["title": "Kubernetes", "version": .string(version)], "paths": .emptyObject,
                    "definitions": .object(Dictionary(uniqueKeysWithValues: all.names.compactMap { name in
                        all.uncached(name).map { (name, rewrite($0, prefix: "#/definitions/", wrap: false)) } }))]
        }!
    }

    static func pathKey(_ gv: GroupVersion) -> String { gv.group.isEmpty ? "api/\(gv.version)" : "apis/\(gv.group)/\(gv.version)" }

    func v3Root() -> [UInt8] {
        document("v3") {
            var paths: [String: JSON] = [:]
            for gv in catalog.groupVersions {
                let key = Self.pathKey(gv)
                paths[key] = ["serverRelativeURL": .string("/openapi/v3/\(key)?hash=\(hash(key))")]
            }
            return ["paths": .object(paths)]
        }!
    }

    func hash(_ key: String) -> String {
        var h: UInt64 = 1469598103934665603
        for b in "\(catalog.generation)/\(key)".utf8 { h = (h ^ UInt64(b)) &* 1099511628211 }
        return String(h, radix: 16, uppercase: true)
    }

    func v3(_ key: String) -> [UInt8]? {
        document("v3/" + key) {
            guard let gv = catalog.groupVersions.first(where: { Self.pathKey($0) == key }) else { return nil }
            let defs = catalog.all.filter { $0.groupVersion == gv }
            let all = catalog.schemas
            var queue = defs.compactMap(\.schemaName) + defs.compactMap { $0.schemaName.map { $0 + "List" } }
            queue += ["io.k8s.apimachinery.pkg.apis.meta.v1.Status", "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"]
            var schemas: [String: JSON] = [:]
            while let name = queue.popLast() {
                guard schemas[name] == nil, let schema = all.uncached(name) else { continue }
                var v3 = rewrite(schema, prefix: "#/components/schemas/", wrap: true)
                if let types = Self.v3OneOf[name] {
                    v3["type"] = nil
                    v3["oneOf"] = .array(types.map { ["type": .string($0)] })
                }
                schemas[name] = v3
                Self.collectRefs(schema, into: &queue)
            }
            var paths: [String: JSON] = [:]
            for d in defs { paths.merge(operations(d)) { a, _ in a } }
            return ["openapi": "3.0.0", "info": ["title": "Kubernetes", "version": .string(version)],
                    "paths": .object(paths), "components": ["schemas": .object(schemas)]]
        }
    }

    /// Types that v3 publishes as a oneOf of JSON types, as kube-openapi does: with no `type` of
    /// their own, `kubectl explain` names them (`<IntOrString>`, `<map[string]Quantity>`).
    static let v3OneOf: [String: [String]] = [
        "io.k8s.apimachinery.pkg.util.intstr.IntOrString": ["integer", "string"],
        "io.k8s.apimachinery.pkg.api.resource.Quantity": ["string", "number"],
    ]

    static func collectRefs(_ schema: JSON, into queue: inout [String]) {
        switch schema {
        case .object(let o):
            if let ref = o["$ref"]?.string { queue.append(ref) }
            for (_, v) in o { collectRefs(v, into: &queue) }
        case .array(let a): for v in a { collectRefs(v, into: &queue) }
        default: break
        }
    }

    /// Turns bare definition names in `$ref` into document references; in v3 a reference with a
    /// description is wrapped in allOf, as upstream publishes it.
    func rewrite(_ schema: JSON, prefix: String, wrap: Bool) -> JSON {
        switch schema {
        case .object(var o):
            if let ref = o["$ref"]?.string {
                let target: JSON = ["$ref": .string(prefix + ref)]
                if wrap, o.count > 1 {
                    o.removeValue(forKey: "$ref")
                    o["allOf"] = [target]
                    return .object(o)
                }
                o["$ref"] = .string(prefix + ref)
                return .object(o)
            }
            return .object(o.mapValues { rewrite($0, prefix: prefix, wrap: wrap) })
        case .array(let a): return .array(a.map { rewrite($0, prefix: prefix, wrap: wrap) })
        default: return schema
        }
    }

    /// The collection and item paths of a resource as kube-openapi publishes them: path
    /// parameters on the path, typed query parameters, the list kind for lists, and the codes
    /// each verb answers with (a delete answers a Status, or the object for upstream's
    /// ReturnDeletedObject kinds).
    func operations(_ d: ResourceDefinition) -> [String: JSON] {
        let base = d.groupVersion.pathPrefix + (d.namespaced ? "/namespaces/{namespace}/" : "/") + d.plural
        let gvk: JSON = ["group": .string(d.group), "version": .string(d.version), "kind": .string(d.kind)]
        func schema(_ name: String?) -> JSON { name.map { ["$ref": .string("#/components/schemas/\($0)")] } ?? ["type": "object"] }
        let object = schema(d.schemaName), list = schema(d.schemaName.map { $0 + "List" })
        let status = schema("io.k8s.apimachinery.pkg.apis.meta.v1.Status")
        let deleted = d.returnsDeletedObject ? object : status
        func responses(_ codes: [String], _ schema: JSON) -> JSON {
            .object(Dictionary(uniqueKeysWithValues: codes.map { ($0, ["description": .string(Self.codeNames[$0] ?? "OK"),
                                                                         "content": ["application/json": ["schema": schema]]]) }))
        }
        func op(_ action: String, _ params: [String], _ answers: JSON, body: Bool = false) -> JSON {
            var o: JSON = ["operationId": .string(action + d.kind), "x-kubernetes-action": .string(action),
                           "x-kubernetes-group-version-kind": gvk, "parameters": .array(params.map(Self.query)), "responses": answers]
            if body { o["requestBody"] = ["content": ["application/json": ["schema": object]], "required": true] }
            return o
        }
        func path(_ name: String, _ description: String) -> JSON {
            ["name": .string(name), "in": "path", "required": true, "description": .string(description),
             "schema": ["type": "string", "uniqueItems": true]]
        }
        var scope: [JSON] = d.namespaced ? [path("namespace", "object name and auth scope, such as for teams and projects")] : []
        scope.append(Self.query("pretty"))
        let write = ["dryRun", "fieldManager", "fieldValidation"]
        let listing = ["allowWatchBookmarks", "continue", "fieldSelector", "labelSelector", "limit", "resourceVersion",
                       "resourceVersionMatch", "sendInitialEvents", "timeoutSeconds", "watch"]
        let deleting = ["dryRun", "gracePeriodSeconds", "orphanDependents", "propagationPolicy"]
        return [
            base: ["get": op("list", listing, responses(["200"], list)),
                   "post": op("post", write, responses(["200", "201", "202"], object), body: true),
                   "delete": op("deletecollection", deleting + listing.filter { $0 != "watch" && $0 != "allowWatchBookmarks" },
                                responses(["200"], status)),
                   "parameters": .array(scope)],
            base + "/{name}": ["get": op("get", [], responses(["200"], object)), "put": op("put", write, responses(["200", "201"], object), body: true),
                               "patch": op("patch", write + ["force"], responses(["200", "201"], object), body: true),
                               "delete": op("delete", deleting, responses(["200", "202"], deleted)),
                               "parameters": .array([path("name", "name of the \(d.kind)")] + scope)],
        ]
    }

    static let codeNames = ["200": "OK", "201": "Created", "202": "Accepted"]

    /// Query parameters with upstream's types; the rest are strings.
    static func query(_ name: String) -> JSON {
        let type = ["limit": "integer", "timeoutSeconds": "integer", "gracePeriodSeconds": "integer", "watch": "boolean",
                    "allowWatchBookmarks": "boolean", "force": "boolean", "orphanDependents": "boolean",
                    "sendInitialEvents": "boolean"][name] ?? "string"
        return ["name": .string(name), "in": "query", "schema": ["type": .string(type), "uniqueItems": true]]
    }
}
