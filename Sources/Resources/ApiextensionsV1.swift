import APIMachinery
import Foundation

/// apiextensions.k8s.io/v1: CustomResourceDefinitions. A stored CRD becomes resource declarations
/// through `CustomResource.definitions(from:)`; this file covers the CRD object itself.
public enum ApiextensionsV1 {
    static let group = "apiextensions.k8s.io"
    static let prefix = "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1."

    public static let resources: [ResourceDefinition] = [
        ResourceDefinition(
            group: group, version: "v1", kind: "CustomResourceDefinition", plural: "customresourcedefinitions",
            shortNames: ["crd", "crds"], categories: ["api-extensions"], namespaced: false, hasStatus: true,
            tracksGeneration: true,
            strategy: .init(defaults: defaults, prepareForCreate: prepareForCreate, validate: validate, validateUpdate: validateUpdate),
            // CRDs print through upstream's default table convertor: Name and Created At.
            columns: [PrinterColumn(
                "Created At", type: "date",
                description: "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata",
                cell: { $0["metadata"]["creationTimestamp"] })],
            schemaName: prefix + "CustomResourceDefinition"),
    ]

    // MARK: defaults and server-owned status

    /// spec.names with singular and listKind filled in from kind, as upstream defaults them.
    static func defaultedNames(_ names: JSON) -> JSON {
        var names = names
        let kind = names["kind"].string ?? ""
        if names["singular"].isEmptyValue, !kind.isEmpty { names["singular"] = .string(kind.lowercased()) }
        if names["listKind"].isEmptyValue, !kind.isEmpty { names["listKind"] = .string(kind + "List") }
        return names
    }

    static func storageVersion(_ crd: JSON) -> String? {
        crd["spec"]["versions"].array?.first { $0["storage"].bool == true }?["name"].string
    }

    @Sendable static func defaults(_ crd: inout JSON) {
        crd["spec"]["names"] = defaultedNames(crd["spec"]["names"])
        if crd["spec"]["conversion"].isNull { crd["spec"]["conversion"] = ["strategy": "None"] }
        let service = ["spec", "conversion", "webhook", "clientConfig", "service"]
        if !crd[path: service].isNull, crd[path: service]["port"].isNull { crd[path: service + ["port"]] = 443 }
        // Upstream records every version that has been the storage version (on create and update).
        var stored = crd["status"]["storedVersions"].array ?? []
        if let storage = storageVersion(crd), !stored.contains(.string(storage)) {
            stored.append(.string(storage))
            crd["status"]["storedVersions"] = .array(stored)
        }
    }

    /// With no separate naming and establishing controllers, a new CRD is accepted and established
    /// at once, with the conditions those controllers write upstream.
    @Sendable static func prepareForCreate(_ crd: inout JSON) {
        let now = JSON.string(APITime.format(Date()))
        func condition(_ type: String, _ reason: String, _ message: String) -> JSON {
            ["type": .string(type), "status": "True", "lastTransitionTime": now, "reason": .string(reason), "message": .string(message)]
        }
        crd["status"] = [
            "conditions": [
                condition("NamesAccepted", "NoConflicts", "no conflicts found"),
                condition("Established", "InitialNamesAccepted", "the initial names have been accepted"),
            ],
            "acceptedNames": defaultedNames(crd["spec"]["names"]),
            "storedVersions": .array(storageVersion(crd).map { [.string($0)] } ?? []),
        ]
    }

    // MARK: validation

    @Sendable static func validate(_ crd: JSON) -> [FieldError] {
        let spec = crd["spec"]
        var errors: [FieldError] = []
        let name = crd["metadata"]["name"].string ?? ""
        let expected = (spec["names"]["plural"].string ?? "") + "." + (spec["group"].string ?? "")
        if !name.isEmpty, name != expected {
            errors.append(.invalid("metadata.name", .string(name), #"must be spec.names.plural+"."+spec.group"#))
        }
        errors += validateGroup(spec["group"])
        errors += requireOneOf(spec["scope"], "spec.scope", ["Cluster", "Namespaced"])
        errors += validateVersions(spec["versions"])
        errors += validateConversion(spec["conversion"])
        errors += validateNames(spec["names"], "spec.names")
        return errors
    }

    @Sendable static func validateUpdate(_ new: JSON, _ old: JSON) -> [FieldError] {
        // Scope and kind decide storage; group and plural make up the name: none may change.
        [["scope"], ["group"], ["names", "kind"], ["names", "plural"]].compactMap { path in
            let value = new["spec"][path: path]
            return value == old["spec"][path: path] ? nil : .invalid("spec." + path.joined(separator: "."), value, "field is immutable")
        }
    }

    static func validateGroup(_ group: JSON) -> [FieldError] {
        let g = group.string ?? ""
        if g.isEmpty { return [.required("spec.group")] }
        let errs = NameValidation.dns1123Subdomain(g)
        if !errs.isEmpty { return [.invalid("spec.group", group, errs.joined(separator: ","))] }
        return g.contains(".") ? [] : [.invalid("spec.group", group, "should be a domain with at least one dot")]
    }

    /// Required when empty, otherwise one of the given values.
    static func requireOneOf(_ value: JSON, _ path: String, _ allowed: [String], requiredDetail: String = "") -> [FieldError] {
        let s = value.string ?? ""
        if s.isEmpty { return [.required(path, requiredDetail)] }
        return allowed.contains(s) ? [] : [.notSupported(path, value, allowed)]
    }

    /// A DNS-1035 label check as upstream words it for names (`prefix` for mixed-case kinds).
    static func dns1035(_ value: JSON, _ path: String, lowercasing: Bool = false, prefix: String = "") -> [FieldError] {
        guard let s = value.string, !s.isEmpty else { return [] }
        let errs = NameValidation.dns1035Label(lowercasing ? s.lowercased() : s)
        return errs.isEmpty ? [] : [.invalid(path, value, prefix + errs.joined(separator: ","))]
    }

    static func validateNames(_ names: JSON, _ path: String) -> [FieldError] {
        let mixedCase = "may have mixed case, but should otherwise match: "
        var errors = dns1035(names["plural"], path + ".plural") + dns1035(names["singular"], path + ".singular")
            + dns1035(names["kind"], path + ".kind", lowercasing: true, prefix: mixedCase)
            + dns1035(names["listKind"], path + ".listKind", lowercasing: true, prefix: mixedCase)
        for (i, short) in (names["shortNames"].array ?? []).enumerated() { errors += dns1035(short, "\(path).shortNames[\(i)]") }
        if !names["kind"].isEmptyValue, names["kind"] == names["listKind"] {
            errors.append(.invalid(path + ".listKind", names["listKind"], "kind and listKind may not be the same"))
        }
        for (i, category) in (names["categories"].array ?? []).enumerated() { errors += dns1035(category, "\(path).categories[\(i)]") }
        for field in ["plural", "singular", "kind", "listKind"] where names[field].isEmptyValue {
            errors.append(.required("\(path).\(field)"))
        }
        return errors
    }

    static func validateColumns(_ columns: JSON, _ path: String) -> [FieldError] {
        (columns.array ?? []).enumerated().flatMap { j, column in validateColumn(column, "\(path)[\(j)]") }
    }

    static func validateSchema(_ schema: JSON, _ path: String) -> [FieldError] {
        if schema.isNull { return [.required(path, "schemas are required")] }
        return validateStructural(schema, path, level: .root) + SchemaPatterns.errors(in: schema, path)
            + ValidationRules.compileErrors(schema, path)
    }

    static func validateVersions(_ versions: JSON) -> [FieldError] {
        let list = versions.array ?? []
        var errors: [FieldError] = []
        // Upstream validates its internal form, where a schema, subresources or printer columns
        // every version shares are hoisted to spec.validation, spec.subresources and
        // spec.additionalPrinterColumns: errors in them are reported once, at those paths.
        func shared(_ field: String) -> Bool {
            guard let first = list.first?[field], !first.isNull else { return false }
            return list.allSatisfy { $0[field] == first }
        }
        let sharedSchema = shared("schema"), sharedSubresources = shared("subresources"), sharedColumns = shared("additionalPrinterColumns")
        for (i, version) in list.enumerated() {
            let path = "spec.versions[\(i)]"
            let name = version["name"]
            let nameErrors = NameValidation.dns1035Label(name.string ?? "")
            if !nameErrors.isEmpty { errors.append(.invalid(path + ".name", name, nameErrors.joined(separator: ","))) }
            if !sharedSubresources { errors += validateScale(version["subresources"]["scale"], path + ".subresources.scale") }
            if !sharedColumns { errors += validateColumns(version["additionalPrinterColumns"], path + ".additionalPrinterColumns") }
            if !sharedSchema { errors += validateSchema(version["schema"]["openAPIV3Schema"], path + ".schema.openAPIV3Schema") }
        }
        if let first = list.first {
            if sharedSubresources { errors += validateScale(first["subresources"]["scale"], "spec.subresources.scale") }
            if sharedColumns { errors += validateColumns(first["additionalPrinterColumns"], "spec.additionalPrinterColumns") }
            if sharedSchema { errors += validateSchema(first["schema"]["openAPIV3Schema"], "spec.validation.openAPIV3Schema") }
        }
        let names = list.compactMap { $0["name"].string }
        if Set(names).count != names.count { errors.append(.invalid("spec.versions", versions, "must contain unique version names")) }
        if list.filter({ $0["storage"].bool == true }).count != 1 {
            errors.append(.invalid("spec.versions", versions.isNull ? .array([]) : versions, "must have exactly one version marked as storage version"))
        }
        return errors
    }

    /// A simple dotted path starting with `.` (upstream's check), which also must parse.
    static func validateSimplePath(_ value: JSON, _ path: String, under prefixes: [String] = [], where place: String = "") -> [FieldError] {
        let s = value.string ?? ""
        if s.isEmpty { return [.required(path)] }
        if !s.hasPrefix(".") { return [.invalid(path, value, "must be a simple json path starting with .")] }
        do { _ = try JSONPath(s) } catch { return [.invalid(path, value, error.message)] }
        if !prefixes.isEmpty, !prefixes.contains(where: s.hasPrefix) { return [.invalid(path, value, "should be a json path under " + place)] }
        return []
    }

    static func validateScale(_ scale: JSON, _ path: String) -> [FieldError] {
        guard !scale.isNull else { return [] }
        var errors = validateSimplePath(scale["specReplicasPath"], path + ".specReplicasPath", under: [".spec."], where: ".spec")
            + validateSimplePath(scale["statusReplicasPath"], path + ".statusReplicasPath", under: [".status."], where: ".status")
        if !scale["labelSelectorPath"].isEmptyValue {
            errors += validateSimplePath(scale["labelSelectorPath"], path + ".labelSelectorPath", under: [".spec.", ".status."],
                                         where: "either .spec or .status")
        }
        return errors
    }

    static let columnTypes = ["boolean", "date", "integer", "number", "string"]
    static let columnFormats = ["byte", "date", "date-time", "double", "float", "int32", "int64", "password"]

    static func validateColumn(_ column: JSON, _ path: String) -> [FieldError] {
        var errors: [FieldError] = column["name"].isEmptyValue ? [.required(path + ".name")] : []
        errors += requireOneOf(column["type"], path + ".type", columnTypes,
                               requiredDetail: "must be one of " + columnTypes.joined(separator: ","))
        if let format = column["format"].string, !format.isEmpty, !columnFormats.contains(format) {
            errors.append(.notSupported(path + ".format", column["format"], columnFormats))
        }
        return errors + validateSimplePath(column["jsonPath"], path + ".jsonPath")
    }

    static func validateConversion(_ conversion: JSON) -> [FieldError] {
        var errors = requireOneOf(conversion["strategy"], "spec.conversion.strategy", ["None", "Webhook"])
        if conversion["strategy"] == "Webhook" {
            if conversion["webhook"].isNull {
                errors.append(.required("spec.conversion.webhook", "required when strategy is set to Webhook"))
            } else if conversion["webhook"]["conversionReviewVersions"].isEmptyValue {
                errors.append(.required("spec.conversion.webhook.conversionReviewVersions", "must contain at least one version"))
            }
        }
        return errors
    }

    // MARK: structural schema basics

    enum SchemaLevel { case root, field, item }

    static let schemaTypes = ["array", "boolean", "integer", "number", "object", "string"]

    /// The structural rules upstream enforces: a type everywhere it is not exempt, an object root,
    /// items for arrays, and properties and additionalProperties not both.
    static func validateStructural(_ s: JSON, _ path: String, level: SchemaLevel) -> [FieldError] {
        var errors: [FieldError] = []
        let type = s["type"]
        let exempt = s["x-kubernetes-preserve-unknown-fields"] == true || s["x-kubernetes-int-or-string"] == true
            || s["x-kubernetes-embedded-resource"] == true
        if type.isEmptyValue, !exempt {
            let place = switch level {
            case .root: "at the root"
            case .field: "for specified object fields"
            case .item: "for specified array items"
            }
            errors.append(.required(path + ".type", "must not be empty " + place))
        } else if let t = type.string, !schemaTypes.contains(t) {
            errors.append(.notSupported(path + ".type", type, schemaTypes))
        } else if level == .root, let t = type.string, t != "object" {
            errors.append(.invalid(path + ".type", type, "must be object at the root"))
        }
        if type == "array", s["items"].isNull { errors.append(.required(path + ".items", "must be specified")) }
        if s["properties"].object?.isEmpty == false, s["additionalProperties"].object != nil {
            errors.append(.forbidden(path + ".additionalProperties", "additionalProperties and properties are mutual exclusive"))
        }
        for (name, child) in (s["properties"].object ?? [:]).sorted(by: { $0.key < $1.key }) {
            errors += validateStructural(child, "\(path).properties[\(name)]", level: .field)
        }
        if s["items"].object != nil { errors += validateStructural(s["items"], path + ".items", level: .item) }
        if s["additionalProperties"].object != nil {
            errors += validateStructural(s["additionalProperties"], path + ".additionalProperties", level: .field)
        }
        return errors
    }
}
