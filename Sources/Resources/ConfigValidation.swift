import APIMachinery
import Foundation

/// Upstream's validation of ConfigMaps and Secrets: key names, the keys each Secret type
/// requires, and what `immutable: true` and a Secret's type fix for good.
public enum ConfigValidation {
    static let keyMessage = "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"

    static func keys(_ o: JSON, _ fields: [String]) -> [FieldError] {
        var errors: [FieldError] = []
        for field in fields {
            for key in (o[field].object ?? [:]).keys.sorted() {
                let valid = !key.isEmpty && key != "." && key != ".." && key.utf8.count <= 253
                    && key.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ".") }
                if !valid { errors.append(.invalid("\(field)[\(key)]", .string(key), keyMessage)) }
            }
        }
        return errors
    }

    /// Upstream's `MaxSecretSize`: what a ConfigMap's or a Secret's values may hold together.
    public static let maxDataBytes = 1024 * 1024

    /// How many bytes a value stands for: a string's own, or what base64 decodes to for bytes.
    static func byteCount(_ value: JSON, base64: Bool) -> Int {
        guard let s = value.string else { return 0 }
        guard base64 else { return s.utf8.count }
        let padding = s.utf8.reversed().prefix { $0 == UInt8(ascii: "=") }.count
        return s.utf8.count / 4 * 3 + max(0, s.utf8.count % 4 - 1) - min(padding, 2)
    }

    public static func configMap(_ o: JSON) -> [FieldError] {
        var errors = keys(o, ["data", "binaryData"])
        let data = o["data"].object ?? [:], binary = o["binaryData"].object ?? [:]
        for key in data.keys.sorted() where binary[key] != nil {
            errors.append(.invalid("data[\(key)]", .string(key), "duplicate of key present in binaryData"))
        }
        for key in binary.keys.sorted() where data[key] != nil {
            errors.append(.invalid("binaryData[\(key)]", .string(key), "duplicate of key present in data"))
        }
        let total = data.values.reduce(0) { $0 + byteCount($1, base64: false) } + binary.values.reduce(0) { $0 + byteCount($1, base64: true) }
        // Upstream's path for "the whole object" prints as "[]".
        if total > maxDataBytes { errors.append(.tooLong("[]", maxDataBytes)) }
        return errors
    }

    /// Upstream's conversion of a written Secret: `stringData` is write-only, merged into `data`
    /// (base64, its keys winning) and never stored; the type defaults to Opaque.
    public static func secretDefaults(_ o: inout JSON) {
        if o["type"].isNull { o["type"] = "Opaque" }
        guard let strings = o["stringData"].object else { return }
        if !strings.isEmpty, o["data"].object == nil { o["data"] = .emptyObject }
        for (key, value) in strings {
            o["data"][key] = .string(Data((value.string ?? "").utf8).base64EncodedString())
        }
        o["stringData"] = nil
    }

    public static func secret(_ o: JSON) -> [FieldError] {
        var errors = keys(o, ["data"])
        let data = o["data"]
        if (data.object ?? [:]).values.reduce(0, { $0 + byteCount($1, base64: true) }) > maxDataBytes { errors.append(.tooLong("data", maxDataBytes)) }
        func require(_ key: String) { if data[key].isNull { errors.append(.required("data[\(key)]")) } }
        switch o["type"].string ?? "Opaque" {
        case "kubernetes.io/tls":
            require("tls.crt")
            require("tls.key")
        case "kubernetes.io/dockerconfigjson":
            require(".dockerconfigjson")
        case "kubernetes.io/dockercfg":
            require(".dockercfg")
        case "kubernetes.io/basic-auth":
            if data["username"].isNull && data["password"].isNull {
                require("username")
                require("password")
            }
        case "kubernetes.io/ssh-auth":
            if (data["ssh-privatekey"].string ?? "").isEmpty { errors.append(.required("data[ssh-privatekey]")) }
        case "kubernetes.io/service-account-token":
            if (o["metadata"]["annotations"]["kubernetes.io/service-account.name"].string ?? "").isEmpty {
                errors.append(.required("metadata.annotations[kubernetes.io/service-account.name]"))
            }
        default:
            break
        }
        return errors
    }

    /// `immutable: true` fixes the data (and itself) for good.
    static func immutable(_ new: JSON, _ old: JSON, _ fields: [String]) -> [FieldError] {
        guard old["immutable"].bool == true else { return [] }
        var errors: [FieldError] = []
        if new["immutable"].bool != true { errors.append(.forbidden("immutable", "field is immutable when `immutable` is set")) }
        for field in fields where new[field] != old[field] { errors.append(.forbidden(field, "field is immutable when `immutable` is set")) }
        return errors
    }

    public static func configMapUpdate(_ new: JSON, _ old: JSON) -> [FieldError] { immutable(new, old, ["data", "binaryData"]) }

    public static func secretUpdate(_ new: JSON, _ old: JSON) -> [FieldError] {
        var errors: [FieldError] = []
        if new["type"] != old["type"] { errors.append(.invalid("type", new["type"], "field is immutable")) }
        return errors + immutable(new, old, ["data"])
    }
}
