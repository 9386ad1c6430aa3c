import APIMachinery
import Foundation
import Resources

/// What the server owns in metadata, and the checks every object's metadata gets, whatever its type.
enum ObjectMetaRules {
    static let generateNameAlphabet = Array("bcdfghjklmnpqrstvwxz2456789")

    /// `generateName` plus five random characters, as upstream's name generator makes them.
    static func generatedName(_ base: String) -> String {
        let trimmed = base.count > 58 ? String(base.prefix(58)) : base
        return trimmed + String((0..<5).map { _ in generateNameAlphabet.randomElement()! })
    }

    /// upstream's validateOwnerReference: each names its owner fully; one controller at most.
    static func ownerReferences(_ references: [JSON]) -> [FieldError] {
        var errors: [FieldError] = []
        var controllers: [String] = []
        for (i, ref) in references.enumerated() {
            let path = "metadata.ownerReferences[\(i)]"
            let apiVersion = ref["apiVersion"].string ?? ""
            let version = apiVersion.split(separator: "/").last.map(String.init) ?? ""
            if version.isEmpty { errors.append(.invalid("\(path).apiVersion", .string(apiVersion), "version must not be empty")) }
            for (field, what) in [("kind", "kind"), ("name", "name"), ("uid", "uid")] where (ref[field].string ?? "").isEmpty {
                errors.append(.invalid("\(path).\(field)", .string(""), "\(what) must not be empty"))
            }
            if ref["controller"].bool == true { controllers.append(ref["name"].string ?? "") }
        }
        if controllers.count > 1 {
            errors.append(.invalid("metadata.ownerReferences", .array(references),
                                   "Only one reference can have Controller set to true. Found \"true\" in references for " + controllers.joined(separator: " and ")))
        }
        return errors
    }

    static func validate(_ obj: JSON, _ def: ResourceDefinition) -> [FieldError] {
        var errors: [FieldError] = FieldManager.validate(obj["metadata"]["managedFields"])
        let meta = obj["metadata"]
        let name = meta["name"].string ?? ""
        if name.isEmpty {
            errors.append(.required("metadata.name", "name or generateName is required"))
        } else {
            for message in def.nameRule.validate(name) { errors.append(.invalid("metadata.name", .string(name), message)) }
        }
        if def.namespaced {
            let ns = meta["namespace"].string ?? ""
            if ns.isEmpty { errors.append(.required("metadata.namespace")) }
        }
        for (key, value) in meta["labels"].stringMap.sorted(by: { $0.key < $1.key }) {
            for message in NameValidation.qualifiedName(key) { errors.append(.invalid("metadata.labels", .string(key), message)) }
            for message in NameValidation.labelValue(value) { errors.append(.invalid("metadata.labels", .string(value), message)) }
        }
        var annotationBytes = 0
        for (key, value) in meta["annotations"].stringMap.sorted(by: { $0.key < $1.key }) {
            for message in NameValidation.qualifiedName(key.lowercased()) {
                errors.append(.invalid("metadata.annotations", .string(key), message))
            }
            annotationBytes += key.utf8.count + value.utf8.count
        }
        if annotationBytes > 256 * 1024 {
            errors.append(.tooLong("metadata.annotations", 256 * 1024))
        }
        for f in meta["finalizers"].array ?? [] {
            for message in NameValidation.qualifiedName(f.string ?? "") { errors.append(.invalid("metadata.finalizers", f, message)) }
        }
        errors += ownerReferences(meta["ownerReferences"].array ?? [])
        return errors
    }

    /// Upstream refuses changes to these on update with "field is immutable".
    static func validateUpdate(_ new: JSON, _ old: JSON) -> [FieldError] {
        var errors: [FieldError] = []
        for field in ["uid", "creationTimestamp"] {
            let n = new["metadata"][field], o = old["metadata"][field]
            if !n.isNull && n != o { errors.append(.invalid("metadata.\(field)", n, "field is immutable")) }
        }
        return errors
    }

    /// The object without metadata and status: what a generation bump compares.
    static func specPart(_ obj: JSON) -> JSON {
        var o = obj
        o["metadata"] = .null
        o["status"] = .null
        return o
    }

    static func nowString() -> String { APITime.format(Date()) }

    static func newUID() -> String { UUID().uuidString.lowercased() }
}
