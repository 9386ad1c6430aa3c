/// An API failure, carried as a meta/v1 Status so kubectl prints what it prints against a real
/// cluster. The constructors word each reason the way upstream's apimachinery errors package does.
public struct StatusError: Error, Sendable, CustomStringConvertible {
    public var code: Int
    public var reason: String
    public var message: String
    public var details: JSON

    public init(code: Int, reason: String, message: String, details: JSON = .null) {
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
    }

    public var description: String { "\(code) \(reason): \(message)" }

    public var status: JSON {
        var s: JSON = [
            "kind": "Status", "apiVersion": "v1", "metadata": .emptyObject,
            "status": "Failure", "message": .string(message), "reason": .string(reason), "code": .int(Int64(code)),
        ]
        if reason.isEmpty { s["reason"] = nil }  // StatusReasonUnknown, omitted as Go omits it
        if !details.isNull { s["details"] = details }
        return s
    }

    /// The Status as upstream's API server writes it: metav1.Status's fields in its struct order,
    /// then a newline (Go's JSON encoder ends each value with one). Clients compare it as text.
    public var encoded: [UInt8] { Self.encode(status) }

    /// Any meta/v1 Status (a Success too) in upstream's bytes.
    public static func encode(_ status: JSON) -> [UInt8] {
        var bytes = status.serialized { parent in
            switch parent {
            case nil: ["kind", "apiVersion", "metadata", "status", "message", "reason", "details", "code"]
            case "details": ["name", "group", "kind", "uid", "causes", "retryAfterSeconds"]
            case "causes": ["reason", "message", "field"]
            default: []
            }
        }
        bytes.append(0x0A)
        return bytes
    }

    /// "configmaps" or "deployments.apps": how upstream names a group resource in messages.
    public static func qualified(_ resource: GroupResource) -> String {
        resource.group.isEmpty ? resource.resource : "\(resource.resource).\(resource.group)"
    }

    static func details(_ resource: GroupResource, name: String?) -> JSON {
        var d: JSON = ["kind": .string(resource.resource)]
        if let name, !name.isEmpty { d["name"] = .string(name) }
        if !resource.group.isEmpty { d["group"] = .string(resource.group) }
        return d
    }

    public static func notFound(_ resource: GroupResource, _ name: String) -> StatusError {
        StatusError(code: 404, reason: "NotFound", message: "\(qualified(resource)) \"\(name)\" not found",
                    details: details(resource, name: name))
    }

    public static func alreadyExists(_ resource: GroupResource, _ name: String) -> StatusError {
        StatusError(code: 409, reason: "AlreadyExists", message: "\(qualified(resource)) \"\(name)\" already exists",
                    details: details(resource, name: name))
    }

    public static func conflict(_ resource: GroupResource, _ name: String, _ why: String) -> StatusError {
        StatusError(code: 409, reason: "Conflict",
                    message: "Operation cannot be fulfilled on \(qualified(resource)) \"\(name)\": \(why)",
                    details: details(resource, name: name))
    }

    public static func staleResourceVersion(_ resource: GroupResource, _ name: String) -> StatusError {
        conflict(resource, name, "the object has been modified; please apply your changes to the latest version and try again")
    }

    public static func invalid(kind: String, group: String, name: String, _ errors: [FieldError]) -> StatusError {
        let list = errors.map(\.description)
        let joined = list.count == 1 ? list[0] : "[" + list.joined(separator: ", ") + "]"
        var d: JSON = ["causes": .array(errors.map(\.cause))]
        if !kind.isEmpty { d["kind"] = .string(kind) }
        if !name.isEmpty { d["name"] = .string(name) }
        if !group.isEmpty { d["group"] = .string(group) }
        let qualified = group.isEmpty ? kind : "\(kind).\(group)"
        return StatusError(code: 422, reason: "Invalid", message: "\(qualified) \"\(name)\" is invalid: \(joined)", details: d)
    }

    public static func forbidden(_ resource: GroupResource, _ name: String, _ why: String) -> StatusError {
        let subject = name.isEmpty ? qualified(resource) : "\(qualified(resource)) \"\(name)\""
        return StatusError(code: 403, reason: "Forbidden", message: "\(subject) is forbidden: \(why)",
                           details: details(resource, name: name))
    }

    public static func badRequest(_ message: String) -> StatusError {
        StatusError(code: 400, reason: "BadRequest", message: message)
    }

    public static func methodNotAllowed() -> StatusError {
        StatusError(code: 405, reason: "MethodNotAllowed", message: "the server does not allow this method on the requested resource")
    }

    public static func notFoundPath() -> StatusError {
        StatusError(code: 404, reason: "NotFound", message: "the server could not find the requested resource")
    }

    public static func expired(_ message: String) -> StatusError {
        StatusError(code: 410, reason: "Expired", message: message)
    }

    public static func gone(_ message: String) -> StatusError {
        StatusError(code: 410, reason: "Gone", message: message)
    }

    public static func unsupportedMediaType(_ contentType: String, accepted: [String]) -> StatusError {
        StatusError(code: 415, reason: "UnsupportedMediaType",
                    message: "the body of the request was in an unknown format - accepted media types include: " + accepted.joined(separator: ", "))
    }

    public static func notAcceptable(_ accepted: [String]) -> StatusError {
        StatusError(code: 406, reason: "NotAcceptable",
                    message: "only the following media types are accepted: " + accepted.joined(separator: ", "))
    }

    public static func requestEntityTooLarge(limit: Int) -> StatusError {
        StatusError(code: 413, reason: "RequestEntityTooLarge", message: "Request entity too large: limit is \(limit)")
    }

    public static func unauthorized() -> StatusError {
        StatusError(code: 401, reason: "Unauthorized", message: "Unauthorized")
    }

    public static func internalError(_ message: String) -> StatusError {
        StatusError(code: 500, reason: "InternalError", message: "Internal error occurred: \(message)")
    }

    public static func tooManyRequests(_ message: String) -> StatusError {
        StatusError(code: 429, reason: "TooManyRequests", message: message)
    }
}

/// One field's validation failure, worded as upstream's field.Error.
public struct FieldError: Sendable, CustomStringConvertible, Equatable {
    public enum Kind: String, Sendable {
        case required = "FieldValueRequired"
        case invalid = "FieldValueInvalid"
        case notSupported = "FieldValueNotSupported"
        case forbidden = "FieldValueForbidden"
        case duplicate = "FieldValueDuplicate"
        case tooLong = "FieldValueTooLong"
        case notFound = "FieldValueNotFound"
        case typeInvalid = "FieldValueTypeInvalid"
    }

    public var kind: Kind
    public var field: String
    public var value: JSON
    public var detail: String
    /// The value as Go prints it, where it is no JSON value (a []byte field, printed as
    /// `[]byte{0x2d, ...}`); nil prints `value`.
    public var goValue: String?

    public init(_ kind: Kind, _ field: String, _ value: JSON = .null, _ detail: String = "") {
        self.kind = kind
        self.field = field
        self.value = value
        self.detail = detail
    }

    public static func required(_ field: String, _ detail: String = "") -> FieldError { .init(.required, field, .null, detail) }
    public static func invalid(_ field: String, _ value: JSON, _ detail: String) -> FieldError { .init(.invalid, field, value, detail) }
    /// An invalid []byte field, its value printed as Go's %#v prints bytes.
    public static func invalid(_ field: String, bytes: [UInt8], _ detail: String) -> FieldError {
        var error = FieldError(.invalid, field, .null, detail)
        error.goValue = "[]byte{" + bytes.map { "0x" + String($0, radix: 16) }.joined(separator: ", ") + "}"
        return error
    }
    public static func forbidden(_ field: String, _ detail: String) -> FieldError { .init(.forbidden, field, .null, detail) }
    public static func duplicate(_ field: String, _ value: JSON) -> FieldError { .init(.duplicate, field, value) }
    public static func tooLong(_ field: String, _ limit: Int) -> FieldError {
        .init(.tooLong, field, .null, "may not be more than \(limit) bytes")
    }
    public static func notSupported(_ field: String, _ value: JSON, _ supported: [String]) -> FieldError {
        .init(.notSupported, field, value, "supported values: " + supported.map { "\"\($0)\"" }.joined(separator: ", "))
    }

    /// The message without the field path, as the Status cause carries it.
    public var body: String {
        var s: String
        switch kind {
        case .required: s = "Required value"
        case .invalid: s = "Invalid value: \(goValue ?? Self.render(value))"
        case .notSupported: s = "Unsupported value: \(Self.render(value))"
        case .forbidden: s = "Forbidden"
        case .duplicate: s = "Duplicate value: \(Self.render(value))"
        case .tooLong: s = "Too long"
        case .notFound: s = "Not found: \(Self.render(value))"
        case .typeInvalid: s = "Invalid value: \(Self.render(value))"
        }
        if !detail.isEmpty { s += ": " + detail }
        return s
    }

    public var description: String { field.isEmpty ? body : "\(field): \(body)" }

    public var cause: JSON { ["reason": .string(kind.rawValue), "message": .string(body), "field": .string(field)] }

    static func render(_ value: JSON) -> String {
        switch value {
        case .string(let s): return "\"\(s)\""
        case .null: return "null"
        case .int(let i): return String(i)
        case .double(let d): return String(d)
        case .bool(let b): return String(b)
        default: return value.jsonString
        }
    }
}
