/// Name rules from upstream's validation package, with its messages, so an invalid name reads
/// the same as on a real cluster. Each check returns the failure details (empty when valid).
public enum NameValidation {
    static let dns1123LabelMessage = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
    static let dns1123SubdomainMessage = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
    static let dns1035LabelMessage = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
    static let qualifiedNameMessage = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
    static let labelValueMessage = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"

    static func isLowerAlnum(_ c: UInt8) -> Bool { (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) }
    static func isAlnum(_ c: UInt8) -> Bool { isLowerAlnum(c) || (c >= 0x41 && c <= 0x5A) }

    static func isDNS1123Label(_ s: Substring.UTF8View) -> Bool {
        guard let first = s.first, let last = s.last, isLowerAlnum(first), isLowerAlnum(last) else { return false }
        return s.allSatisfy { isLowerAlnum($0) || $0 == UInt8(ascii: "-") }
    }

    public static func dns1123Label(_ name: String) -> [String] {
        var errors: [String] = []
        if name.utf8.count > 63 { errors.append("must be no more than 63 characters") }
        if !isDNS1123Label(Substring(name).utf8) { errors.append(dns1123LabelMessage) }
        return errors
    }

    static func isDNS1123Subdomain(_ name: String) -> Bool {
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        return !labels.isEmpty && labels.allSatisfy { isDNS1123Label($0.utf8) }
    }

    public static func dns1123Subdomain(_ name: String) -> [String] {
        var errors: [String] = []
        if name.utf8.count > 253 { errors.append("must be no more than 253 characters") }
        if !isDNS1123Subdomain(name) { errors.append(dns1123SubdomainMessage) }
        return errors
    }

    public static func dns1035Label(_ name: String) -> [String] {
        var errors: [String] = []
        if name.utf8.count > 63 { errors.append("must be no more than 63 characters") }
        let u = Substring(name).utf8
        if !(isDNS1123Label(u) && (u.first.map { $0 >= 0x61 && $0 <= 0x7A } ?? false)) { errors.append(dns1035LabelMessage) }
        return errors
    }

    /// Names that only need to be usable as a path segment (RBAC roles and bindings).
    public static func pathSegmentName(_ name: String) -> [String] {
        if name == "." || name == ".." { return ["may not be '\(name)'"] }
        for bad in ["/", "%"] where name.contains(bad) { return ["may not contain '\(bad)'"] }
        return []
    }

    static func isQualifiedNamePart(_ s: Substring.UTF8View) -> Bool {
        guard let first = s.first, let last = s.last, isAlnum(first), isAlnum(last) else { return false }
        return s.allSatisfy { isAlnum($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") }
    }

    /// Label keys, annotation keys, finalizers and every other "qualified name": an optional DNS
    /// subdomain prefix and '/', then a name of at most 63; upstream's content.IsLabelKey (1.35
    /// on), which counts lengths in bytes.
    public static func qualifiedName(_ key: String) -> [String] {
        var errors: [String] = []
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        var name = Substring(key)
        if parts.count == 2 {
            let prefix = String(parts[0])
            name = parts[1]
            if prefix.isEmpty { errors.append("prefix part must be non-empty") }
            else {
                if prefix.utf8.count > 253 { errors.append("prefix part must be no more than 253 bytes") }
                if !isDNS1123Subdomain(prefix) { errors.append("prefix part " + dns1123SubdomainMessage) }
            }
        } else if parts.count > 2 {
            return ["a valid label key must consist of" + qualifiedNameMessage.dropFirst("name part must consist of".count)
                    + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"]
        }
        if name.isEmpty { errors.append("name part must be non-empty") }
        else if name.utf8.count > 63 { errors.append("name part must be no more than 63 bytes") }
        if !isQualifiedNamePart(name.utf8) { errors.append(qualifiedNameMessage) }
        return errors
    }

    public static func labelValue(_ value: String) -> [String] {
        var errors: [String] = []
        if value.utf8.count > 63 { errors.append("must be no more than 63 bytes") }
        if !value.isEmpty && !isQualifiedNamePart(Substring(value).utf8) { errors.append(labelValueMessage) }
        return errors
    }
}
