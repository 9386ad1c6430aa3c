/// One entry of an Accept or Content-Type header: `application/json;as=Table;v=v1;g=meta.k8s.io`.
struct MediaType: Equatable {
    var type: String
    var parameters: [String: String]

    init(type: String, parameters: [String: String] = [:]) {
        self.type = type
        self.parameters = parameters
    }

    init(_ text: Substring) {
        let parts = text.split(separator: ";").map { $0.trimmingCharacters(in: " ") }
        type = (parts.first ?? "").lowercased()
        var params: [String: String] = [:]
        for p in parts.dropFirst() {
            let kv = p.split(separator: "=", maxSplits: 1)
            if kv.count == 2 { params[kv[0].lowercased()] = String(kv[1]).trimmingCharacters(in: "\"") }
        }
        parameters = params
    }

    static func parseList(_ header: String?) -> [MediaType] {
        guard let header, !header.isEmpty else { return [MediaType(type: "application/json")] }
        return header.split(separator: ",").map { MediaType($0) }
    }

    var acceptsJSON: Bool { type == "application/json" || type == "*/*" || type == "application/*" }

    /// The `as` kind asked for in the meta.k8s.io or apidiscovery.k8s.io group, if any.
    func asKind(group: String) -> String? {
        guard type == "application/json", parameters["g"] == group else { return nil }
        return parameters["as"]
    }

    static let json = "application/json"
}

extension StringProtocol {
    func trimmingCharacters(in c: Character) -> String {
        var s = Substring(self)
        while s.first == c { s = s.dropFirst() }
        while s.last == c { s = s.dropLast() }
        return String(s)
    }
}
