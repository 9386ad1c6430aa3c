import APIMachinery
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Registry
import Resources
import X509

/// The HTTP face of the registry: authenticates, authorizes, parses the request in the API's
/// grammar, calls the registry and writes what it answers, errors always as a meta/v1 Status.
struct APIHandler: HTTPResponder {
    typealias Context = APIRequestContext

    let registry: Registry
    let discovery: Discovery
    let openAPI: OpenAPI
    let authenticator: Authenticator
    let authorizer: RBACAuthorizer
    let impersonation: Impersonation
    let version: JSON
    let inFlight: InFlightLimit
    var snapshotRestore: SnapshotRestore? = nil
    var issuerDiscovery: ServiceAccountIssuerDiscovery? = nil

    /// Upstream's limit for request bodies.
    static let maxBodyBytes = 3 * 1024 * 1024

    func respond(to request: Request, context: Context) async throws -> Response {
        do {
            let certificate = request.headers[.authorization] == nil ? await APIRequestContext.clientCertificate(context.channel) : nil
            return try await route(request, clientCertificate: certificate, connection: context.channel)
        } catch {
            return Self.status(error)
        }
    }

    /// `connection`: the request's channel (an HTTP/2 stream's own), closed when a watch falls too
    /// far behind.
    func route(_ request: Request, clientCertificate: Certificate? = nil, connection: (any Channel)? = nil) async throws(StatusError) -> Response {
        let path = request.uri.path
        let query = Query(request.uri.query)
        let resourcePath = ResourcePath.parse(path)
        let user = try await authorize(request.method, path: path, resourcePath: resourcePath, query: query, headers: request.headers,
                                       clientCertificate: clientCertificate)
        switch path {
        case "/healthz", "/livez", "/readyz":
            guard query["verbose"] != nil else { return Self.text("ok") }
            return Self.text(HealthChecks.verbose(path))
        case "/version", "/version/": return Self.json(version)
        default: break
        }
        if InFlightLimit.isLongRunning(resourcePath, watch: query.bool("watch")) {
            return try await serve(request, path: path, query: query, resourcePath: resourcePath, user: user, connection: connection)
        }
        let timeout = try RequestDeadline.timeout(query, limit: inFlight.limits.requestTimeout)
        let bounded = { @Sendable () async throws(StatusError) -> Response in
            try await RequestDeadline.run(within: timeout) { () async throws(StatusError) -> Response in
                try await serve(request, path: path, query: query, resourcePath: resourcePath, user: user)
            }
        }
        // Upstream exempts system:masters from the in-flight cap, so the admin can always act.
        if user.groups.contains(RBACAuthorizer.privilegedGroup) { return try await bounded() }
        let mutating = ![.get, .head, .options].contains(request.method)
        return try await inFlight.withSlot(mutating: mutating, bounded)
    }

    /// A request that was let in: discovery, OpenAPI or a resource.
    func serve(_ request: Request, path: String, query: Query, resourcePath: ResourcePath?, user: UserInfo,
               connection: (any Channel)? = nil) async throws(StatusError) -> Response {
        let accept = MediaType.parseList(request.headers[.accept])
        if request.method == .get {
            switch path {
            case "/api", "/api/":
                if wantsAggregated(accept) { return Self.aggregated(discovery.aggregated(core: true)) }
                return Self.json(discovery.apiVersions)
            case "/apis", "/apis/":
                if wantsAggregated(accept) { return Self.aggregated(discovery.aggregated(core: false)) }
                return Self.json(discovery.groupList)
            case "/openapi/v2":
                if accept.contains(where: \.acceptsJSON) { return Self.bytes(openAPI.v2()) }
                // kubectl asks for v2 in protobuf only when v3 lacks a group version (an unknown
                // kind): a document with no definitions lets it go on to say the kind is unknown.
                guard accept.contains(where: { $0.type == OpenAPI.v2ProtobufType }) else { throw .notAcceptable(["application/json"]) }
                return Self.bytes(OpenAPI.emptyV2Protobuf, contentType: "application/octet-stream")
            case "/openapi/v3": return Self.bytes(openAPI.v3Root())
            default: break
            }
            if let issuerDiscovery, let response = issuerDiscovery.respond(to: path) { return response }
            if path.hasPrefix("/openapi/v3/"), let doc = openAPI.v3(String(path.dropFirst("/openapi/v3/".count))) {
                return Self.bytes(doc)
            }
            let parts = path.split(separator: "/")
            if parts.count == 2, parts[0] == "api", let list = discovery.resourceList(GroupVersion(group: "", version: String(parts[1]))) {
                return Self.json(list)
            }
            if parts.count == 2, parts[0] == "apis", let g = discovery.group(String(parts[1])) { return Self.json(g) }
            if parts.count == 3, parts[0] == "apis", let list = discovery.resourceList(GroupVersion(group: String(parts[1]), version: String(parts[2]))) {
                return Self.json(list)
            }
        }
        if path == SnapshotRestore.path, let snapshotRestore { return try await snapshotRestore.serve(request) }
        guard let rp = resourcePath else { throw .notFoundPath() }
        guard let def = registry.catalog.lookup(group: rp.group, version: rp.version, plural: rp.resource) else {
            throw .notFoundPath()
        }
        if def.namespaced == false && rp.namespace != nil { throw .notFoundPath() }
        var request = request
        let warnings = WarningSink()
        // withValue only rethrows untyped errors; a Result keeps the StatusError typed.
        if let deprecation = def.deprecationWarning { warnings.record(deprecation) }
        let result = await Warnings.$sink.withValue(warnings) { () async -> Result<Response, StatusError> in
            do throws(StatusError) {
                return .success(try await ResourceRequest(handler: self, def: def, path: rp, query: query, accept: accept,
                                                          userAgent: request.headers[.userAgent], user: user, connection: connection).serve(&request))
            } catch {
                return .failure(error)
            }
        }
        var response = try result.get()
        for message in warnings.all { response.headers.append(HTTPField(name: Self.warningHeader, value: Self.warningValue(message))) }
        return response
    }

    /// Who is asking, and whether they may: authentication, impersonation, then RBAC.
    func authorize(_ method: HTTPRequest.Method, path: String, resourcePath: ResourcePath?, query: Query, headers: HTTPFields,
                   clientCertificate: Certificate?) async throws(StatusError) -> UserInfo {
        let authenticated = try await authenticator.authenticate(headers, clientCertificate: clientCertificate)
        let user = try await impersonation.apply(headers, to: authenticated)
        let attributes = resourcePath.map { RequestAttributes(user: user, method: method, resourcePath: $0, watch: query.bool("watch")) }
            ?? RequestAttributes(user: user, method: method, path: path)
        let decision = await authorizer.authorize(attributes)
        guard decision.allowed else { throw attributes.forbidden(reason: decision.reason) }
        return user
    }

    static let warningHeader = HTTPField.Name("Warning")!

    /// RFC 7234 form, as upstream sends it: `299 - "unknown field \"spec.x\""`.
    static func warningValue(_ message: String) -> String {
        "299 - \"" + message.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    func wantsAggregated(_ accept: [MediaType]) -> Bool {
        accept.first { $0.asKind(group: "apidiscovery.k8s.io") != nil || $0.acceptsJSON }?
            .asKind(group: "apidiscovery.k8s.io") == "APIGroupDiscoveryList"
    }

    // MARK: responses

    /// A JSON answer ends with a newline, as Go's encoder ends upstream's.
    static func json(_ value: JSON, status: HTTPResponse.Status = .ok) -> Response {
        var body = value.serialized()
        body.append(0x0A)  // in place: a list's bytes are not copied again
        return bytes(body, status: status)
    }

    static func bytes(_ bytes: [UInt8], status: HTTPResponse.Status = .ok, contentType: String = "application/json") -> Response {
        Response(status: status, headers: [.contentType: contentType], body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func aggregated(_ value: JSON) -> Response {
        bytes(value.serialized(), contentType: "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList")
    }

    static func text(_ s: String) -> Response {
        Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: ResponseBody(byteBuffer: ByteBuffer(string: s)))
    }

    static func status(_ error: StatusError) -> Response {
        var response = bytes(error.encoded, status: HTTPResponse.Status(code: error.code))
        // As upstream's responsewriters: a Status that says when to retry says it in the header too.
        if let seconds = error.details["retryAfterSeconds"].int, seconds > 0 { response.headers[.retryAfter] = String(seconds) }
        return response
    }
}

/// Query parameters, decoded the way Go's net/url does ('+' is a space).
struct Query {
    var values: [String: String] = [:]
    /// Every value of each key, in order (exec's `command` repeats).
    var lists: [String: [String]] = [:]

    init(_ raw: String?) {
        guard let raw else { return }
        for pair in raw.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = Self.decode(kv[0])
            let value = kv.count > 1 ? Self.decode(kv[1]) : ""
            values[key] = value
            lists[key, default: []].append(value)
        }
    }

    static func decode(_ s: Substring) -> String {
        let spaced = s.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }

    subscript(_ key: String) -> String? { values[key] }

    func bool(_ key: String) -> Bool { values[key].map { $0 == "true" || $0 == "1" } ?? false }

    func int(_ key: String) throws(StatusError) -> Int? {
        guard let v = values[key], !v.isEmpty else { return nil }
        guard let n = Int(v) else { throw .badRequest("invalid value for \(key): \(v)") }
        return n
    }
}
