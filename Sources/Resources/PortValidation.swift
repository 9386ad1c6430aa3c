import APIMachinery

/// Upstream's checks of a port number and protocol, which container, host, service and target
/// ports share.
enum PortValidation {
    static func number(_ field: String, _ port: Int64) -> [FieldError] {
        (1...65535).contains(port) ? [] : [.invalid(field, .int(port), "must be between 1 and 65535, inclusive")]
    }

    static func `protocol`(_ field: String, _ value: JSON) -> [FieldError] {
        guard let proto = value.string, !["TCP", "UDP", "SCTP"].contains(proto) else { return [] }
        return [.notSupported(field, .string(proto), ["SCTP", "TCP", "UDP"])]
    }
}
