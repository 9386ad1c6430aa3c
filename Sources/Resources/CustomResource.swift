import APIMachinery
import Foundation

/// Custom resources: an established CRD turned into one resource declaration per served version
/// (DESIGN rule 3), validated and defaulted by that version's openAPIV3Schema.
public enum CustomResource {
    public static func definitions(from crd: JSON) -> [ResourceDefinition] {
        let spec = crd["spec"], names = ApiextensionsV1.defaultedNames(spec["names"])
        let group = spec["group"].string ?? ""
        let kind = names["kind"].string ?? ""
        return servedVersions(crd).map { v in
            let version = v["name"].string ?? ""
            let columns = (v["additionalPrinterColumns"].array ?? []).compactMap(column)
            return ResourceDefinition(
                group: group, version: version, kind: kind, plural: names["plural"].string ?? "",
                singular: names["singular"].string, shortNames: strings(names["shortNames"]),
                categories: strings(names["categories"]), namespaced: spec["scope"].string != "Cluster",
                hasStatus: !v["subresources"]["status"].isNull, scale: scale(v["subresources"]["scale"]),
                tracksGeneration: true, nameRule: .dns1123Subdomain, strategy: strategy(v["schema"]["openAPIV3Schema"]),
                columns: columns.isEmpty ? [defaultAge] : columns, fieldSelectors: fieldSelectors(v["selectableFields"]),
                schemaName: schemaName(group, version, kind),
                deprecationWarning: v["deprecated"].bool == true ? v["deprecationWarning"].string ?? "\(group)/\(version) \(kind) is deprecated" : nil)
        }
    }

    /// Each served version's schema as an OpenAPI definition (plus its List), named as upstream
    /// publishes them: reversed group, version, kind (`com.example.v1.Widget`).
    public static func schemas(from crd: JSON) -> [String: JSON] {
        let group = crd["spec"]["group"].string ?? ""
        let kind = crd["spec"]["names"]["kind"].string ?? ""
        var out: [String: JSON] = [:]
        for v in servedVersions(crd) {
            let version = v["name"].string ?? ""
            let name = schemaName(group, version, kind)
            var schema = v["schema"]["openAPIV3Schema"]
            if schema.isNull { schema = ["type": "object", "x-kubernetes-preserve-unknown-fields": true] }
            let properties = (schema["properties"].object ?? [:]).merging(Schema.withTypeMeta([:])) { _, standard in standard }
            schema["properties"] = .object(properties)
            schema["x-kubernetes-group-version-kind"] = [["group": .string(group), "version": .string(version), "kind": .string(kind)]]
            out[name] = schema
            out[name + "List"] = Schema.list(group, version, kind, items: name)
        }
        return out
    }

    static func servedVersions(_ crd: JSON) -> [JSON] {
        (crd["spec"]["versions"].array ?? []).filter { $0["served"].bool == true }
    }

    static func schemaName(_ group: String, _ version: String, _ kind: String) -> String {
        (group.split(separator: ".").reversed().map(String.init) + [version, kind]).joined(separator: ".")
    }

    static func strings(_ list: JSON) -> [String] { list.array?.compactMap(\.string) ?? [] }

    /// ".spec.replicas" → ["spec", "replicas"]; scale paths are simple dotted paths.
    static func components(_ path: JSON) -> [String]? {
        path.string.map { $0.split(separator: ".").map(String.init) }
    }

    static func scale(_ s: JSON) -> ScaleSubresource? {
        guard s.object != nil else { return nil }
        return ScaleSubresource(specReplicasPath: components(s["specReplicasPath"]) ?? ["spec", "replicas"],
                                statusReplicasPath: components(s["statusReplicasPath"]) ?? ["status", "replicas"],
                                labelSelectorPath: components(s["labelSelectorPath"]))
    }

    // MARK: printing

    /// With no additionalPrinterColumns upstream prints AGE, declared as a date column.
    static let defaultAge: PrinterColumn = {
        var age = PrinterColumn.age
        age.type = "date"
        return age
    }()

    static func column(_ c: JSON) -> PrinterColumn? {
        guard let name = c["name"].string, let path = try? JSONPath(c["jsonPath"].string ?? "") else { return nil }
        let type = c["type"].string ?? "string"
        return PrinterColumn(name, type: type, format: c["format"].string ?? "", priority: Int(c["priority"].int ?? 0),
                             description: c["description"].string ?? "") { obj in
            path.evaluate(obj).first.map { cell(type, $0) } ?? .null
        }
    }

    /// A cell as upstream's custom resource table renders the first result: strings print any
    /// value as text; other types keep only values of their kind (else empty, shown as <none>).
    static func cell(_ type: String, _ value: JSON) -> JSON {
        switch (type, value) {
        case (_, .null): return .null
        case ("string", _): return .string(text(value))
        case ("integer", .int): return value
        case ("integer", .double(let d)): return Int64(exactly: d.rounded(.towardZero)).map { .int($0) } ?? .null
        case ("number", _): return value.number.map { .double($0) } ?? .null
        case ("boolean", .bool): return value
        case ("date", .string(let s)): return .string(APITime.parse(s) == nil ? "<invalid>" : APITime.age(value))
        default: return .null
        }
    }

    static func text(_ value: JSON) -> String { value.string ?? value.jsonString }

    static func fieldSelectors(_ fields: JSON) -> [String: @Sendable (JSON) -> String?] {
        var out: [String: @Sendable (JSON) -> String?] = [:]
        for f in fields.array ?? [] {
            guard let p = f["jsonPath"].string, let path = try? JSONPath(p) else { continue }
            out[String(p.drop { $0 == "." })] = { obj in path.evaluate(obj).first.map(text) ?? "" }
        }
        return out
    }

    // MARK: schema validation and defaulting

    static func strategy(_ schema: JSON) -> ResourceStrategy {
        guard !schema.isNull else { return ResourceStrategy() }
        // The schema's own checks on every write; its CEL rules once a write (transition rules
        // on updates alone), the status's writes included.
        var strategy = ResourceStrategy(
            defaults: { obj in SchemaDefaulter.apply(schema, to: &obj, root: true) },
            validate: { obj in SchemaValidator.check(obj, schema, path: "", root: true) },
            validateUpdate: { new, old in ValidationRules.check(new, schema, old: old) },
            validateCreate: { obj in ValidationRules.check(obj, schema, old: nil) },
            pruneUnknownFields: { obj in SchemaPruner.prune(&obj, schema, root: true) })
        strategy.validateStatusUpdate = { new, old in SchemaValidator.check(new, schema, path: "", root: true) + ValidationRules.check(new, schema, old: old) }
        return strategy
    }
}

/// Upstream prunes what a structural schema does not specify: members an object's `properties`
/// do not name (unless `additionalProperties` or x-kubernetes-preserve-unknown-fields allow them)
/// are dropped, and named for fieldValidation (Strict refuses them, Warn reports them).
public enum SchemaPruner {
    /// Drops the members a schema does not declare, returning their paths (`spec.bogus`,
    /// `spec.containers[0].bogus`). With `definitions`, the schema is a built-in type's: references
    /// are followed, the type's own apiVersion, kind and metadata are checked too, and an object
    /// type that declares no members (RawExtension, FieldsV1) holds anything, as in upstream's Go types.
    /// The object is only read unless something must go, and paths are only spelled out for what
    /// goes: most writes have nothing unknown.
    ///
    /// A built-in type's nulls become what Go decodes them into and writes back: a field's null is
    /// left out (a nil pointer, an omitted empty value), a required field's is its type's zero
    /// (`key: null` in a selector requirement is `key: ""`); in a map or a list, the element type's
    /// zero (`labels: {a: null}`, as YAML writes `a:` with nothing after it, is stored as `a: ""`).
    public static func prune(_ value: inout JSON, _ schema: JSON, root: Bool = false, definitions: SchemaDefinitions? = nil) -> [String] {
        var path: [Component] = [], found: [[Component]] = [], nulls: [Null] = []
        find(value, schema, root: root, definitions: definitions, path: &path, into: &found, nulls: &nulls)
        found.sort { $0.lexicographicallyPrecedes($1) }
        for unknown in found { remove(unknown[...], from: &value) }
        for null in nulls { remove(null.path[...], from: &value, leaving: null.zero) }
        return found.map(render)
    }

    /// A null in a built-in object, and what takes its place (nothing, for a field).
    struct Null {
        var path: [Component]
        var zero: JSON?
    }

    /// The Go zero value of an element of `schema`'s type, as encoding/json writes it.
    static func zero(_ schema: JSON, _ definitions: SchemaDefinitions) -> JSON? {
        let resolved = schema[Schema.refKey].string.flatMap { definitions[$0] } ?? schema
        switch resolved["type"].string {
        case "string": return resolved["format"] == "int-or-string" ? 0 : ""
        case "integer", "number": return 0
        case "boolean": return false
        case "object": return .emptyObject
        default: return nil
        }
    }

    enum Component: Comparable {
        case key(String)
        case index(Int)
    }

    static func find(_ value: JSON, _ schema: JSON, root: Bool = false, definitions: SchemaDefinitions?,
                     path: inout [Component], into found: inout [[Component]], nulls: inout [Null]) {
        var s = schema
        if let definitions, let name = s[Schema.refKey].string {
            guard let resolved = definitions[name] else { return }
            s = resolved
        }
        switch value {
        case .object(let o):
            let properties = s["properties"].object
            let additional = s["additionalProperties"].object
            let undeclared = definitions != nil && properties == nil && s["additionalProperties"].isNull
            let keepsAll = s["x-kubernetes-preserve-unknown-fields"] == true || !s["additionalProperties"].isNull || undeclared
            let embedded = definitions == nil && (root || s["x-kubernetes-embedded-resource"] == true)
            for (key, member) in o {
                if embedded && typeMetaFields.contains(key) { continue }
                let child = properties?[key] ?? additional.map(JSON.object)
                guard child != nil || !keepsAll else { continue }
                path.append(.key(key))
                if let child {
                    if let definitions, member.isNull {
                        if properties?[key] != nil {
                            // A required field has no omitempty in Go: its zero is written back.
                            let required = s["required"].array?.contains(.string(key)) == true
                            nulls.append(Null(path: path, zero: required ? zero(child, definitions) : nil))
                        } else if let zero = zero(child, definitions) {
                            nulls.append(Null(path: path, zero: zero))
                        }
                    }
                    find(member, child, definitions: definitions, path: &path, into: &found, nulls: &nulls)
                } else {
                    found.append(path)
                }
                path.removeLast()
            }
        case .array(let a) where s["items"].object != nil:
            for (i, item) in a.enumerated() {
                path.append(.index(i))
                if let definitions, item.isNull, let zero = zero(s["items"], definitions) { nulls.append(Null(path: path, zero: zero)) }
                find(item, s["items"], definitions: definitions, path: &path, into: &found, nulls: &nulls)
                path.removeLast()
            }
        default:
            break
        }
    }

    /// Removes the member at `path`, or with `leaving`, puts that value in its place.
    static func remove(_ path: ArraySlice<Component>, from value: inout JSON, leaving: JSON? = nil) {
        guard let first = path.first else { return }
        switch (first, value) {
        case (.key(let key), .object(var o)):
            value = .null
            if path.count == 1 { o[key] = leaving } else if o[key] != nil { remove(path.dropFirst(), from: &o[key]!, leaving: leaving) }
            value = .object(o)
        case (.index(let i), .array(var a)) where a.indices.contains(i):
            value = .null
            if path.count == 1, let leaving { a[i] = leaving } else { remove(path.dropFirst(), from: &a[i], leaving: leaving) }
            value = .array(a)
        default:
            break
        }
    }

    /// `spec.containers[0].bogus`, as upstream names a field.
    static func render(_ path: [Component]) -> String {
        var out = ""
        for component in path {
            switch component {
            case .key(let key): out += out.isEmpty ? key : "." + key
            case .index(let i): out += "[\(i)]"
            }
        }
        return out
    }
}

/// Members the registry owns at the root of every custom resource; schemas do not govern them.
private let typeMetaFields: Set<String> = ["apiVersion", "kind", "metadata"]

/// Fills in `default` values from the schema for absent members of objects that are present,
/// then descends into them, as upstream's structural defaulting does.
enum SchemaDefaulter {
    static func apply(_ s: JSON, to value: inout JSON, root: Bool = false) {
        switch value {
        case .object(var o):
            value = .null
            for (key, child) in s["properties"].object ?? [:] where !(root && typeMetaFields.contains(key)) {
                if o[key] == nil || (o[key] == .null && child["nullable"] != true), !child["default"].isNull { o[key] = child["default"] }
                if var member = o[key] { apply(child, to: &member); o[key] = member }
            }
            if s["additionalProperties"].object != nil {
                let known = s["properties"].object ?? [:]
                for key in o.keys where known[key] == nil { apply(s["additionalProperties"], to: &o[key]!) }
            }
            value = .object(o)
        case .array(var a) where s["items"].object != nil:
            value = .null
            for i in a.indices { apply(s["items"], to: &a[i]) }
            value = .array(a)
        default:
            break
        }
    }
}

/// Validation of a custom resource against its version's openAPIV3Schema, with the messages
/// upstream's OpenAPI validator gives (each detail repeats the path "in body").
enum SchemaValidator {
    /// A schema without a type (x-kubernetes-preserve-unknown-fields) accepts any value; members
    /// the schema does not name are kept and never errors (pruning is not done here).
    static func check(_ value: JSON, _ s: JSON, path: String, root: Bool = false) -> [FieldError] {
        let intOrString = s["x-kubernetes-int-or-string"] == true
        let type = s["type"].string
        if value.isNull, s["nullable"] == true || (type == nil && !intOrString) { return [] }
        let actual = typeName(value)
        let accepted = intOrString ? ["integer", "string"] : type.map { $0 == "number" ? ["number", "integer"] : [$0] }
        if let accepted, !accepted.contains(actual) {
            let expected = intOrString ? "integer,string" : type!
            return [FieldError(.typeInvalid, path, .string(actual), "\(path) in body must be of type \(expected): \"\(actual)\"")]
        }
        var errors = checkEnum(value, s, path)
        switch value {
        case .int, .double: errors += checkNumber(value, s, path)
        case .string(let str): errors += checkString(str, value, s, path)
        case .array(let a):
            errors += checkCount(a.count, min: s["minItems"], max: s["maxItems"], path, noun: "items")
            if s["items"].object != nil {
                for (i, item) in a.enumerated() { errors += check(item, s["items"], path: "\(path)[\(i)]") }
            }
        case .object(let o):
            errors += checkCount(o.count, min: s["minProperties"], max: s["maxProperties"], path, noun: "properties")
            errors += checkObject(o, s, path, root: root)
        default: break
        }
        return errors
    }

    static func child(_ path: String, _ key: String) -> String { path.isEmpty ? key : path + "." + key }

    static func typeName(_ v: JSON) -> String {
        switch v {
        case .null: return "null"
        case .bool: return "boolean"
        case .int: return "integer"
        case .double(let d): return d == d.rounded() ? "integer" : "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    /// Numbers as Go's %v prints them in messages: 5, not 5.0.
    static func show(_ n: Double) -> String {
        n == n.rounded() && abs(n) < 1e15 ? String(Int64(n)) : String(n)
    }

    static func checkEnum(_ value: JSON, _ s: JSON, _ path: String) -> [FieldError] {
        guard let allowed = s["enum"].array else { return [] }
        if allowed.contains(where: { $0 == value || ($0.number != nil && $0.number == value.number) }) { return [] }
        return [.notSupported(path, value, allowed.map(CustomResource.text))]
    }

    static func checkNumber(_ value: JSON, _ s: JSON, _ path: String) -> [FieldError] {
        guard let n = value.number else { return [] }
        var errors: [FieldError] = []
        func bound(_ key: String, _ exclusiveKey: String, _ word: String, _ violates: (Double, Double, Bool) -> Bool) {
            guard let limit = s[key].number else { return }
            let exclusive = s[exclusiveKey] == true
            if violates(n, limit, exclusive) {
                errors.append(.invalid(path, value, "\(path) in body should be \(word) than \(exclusive ? "" : "or equal to ")\(show(limit))"))
            }
        }
        bound("minimum", "exclusiveMinimum", "greater") { n, l, ex in ex ? n <= l : n < l }
        bound("maximum", "exclusiveMaximum", "less") { n, l, ex in ex ? n >= l : n > l }
        if let m = s["multipleOf"].number, m > 0, (n / m).rounded() != n / m {
            errors.append(.invalid(path, value, "\(path) in body should be a multiple of \(show(m))"))
        }
        return errors
    }

    static func checkString(_ str: String, _ value: JSON, _ s: JSON, _ path: String) -> [FieldError] {
        var errors: [FieldError] = []
        let length = str.unicodeScalars.count
        if let max = s["maxLength"].int, length > max {
            errors.append(FieldError(.tooLong, path, value, "may not be more than \(max) bytes"))
        }
        if let min = s["minLength"].int, length < min {
            errors.append(.invalid(path, value, "\(path) in body should be at least \(min) chars long"))
        }
        if let pattern = s["pattern"].string, let regexp = SchemaPatterns.regexp(pattern), !regexp.matches(str) {
            errors.append(.invalid(path, value, "\(path) in body should match '\(pattern)'"))
        }
        return errors
    }

    static func checkCount(_ count: Int, min: JSON, max: JSON, _ path: String, noun: String) -> [FieldError] {
        var errors: [FieldError] = []
        if let lo = min.int, count < lo {
            errors.append(.invalid(path, .int(Int64(count)), "\(path) in body should have at least \(lo) \(noun)"))
        }
        if let hi = max.int, count > hi {
            // Upstream reports this as "Too many: N: must have at most M items"; FieldError has no such kind yet.
            errors.append(.invalid(path, .int(Int64(count)), "must have at most \(hi) items"))
        }
        return errors
    }

    static func checkObject(_ o: [String: JSON], _ s: JSON, _ path: String, root: Bool) -> [FieldError] {
        var errors: [FieldError] = []
        for case .string(let key) in s["required"].array ?? [] where o[key] == nil && !(root && typeMetaFields.contains(key)) {
            errors.append(.required(child(path, key)))
        }
        let properties = s["properties"].object ?? [:]
        for (key, member) in o.sorted(by: { $0.key < $1.key }) where !(root && typeMetaFields.contains(key)) {
            if let schema = properties[key] {
                errors += check(member, schema, path: child(path, key))
            } else if s["additionalProperties"].object != nil {
                errors += check(member, s["additionalProperties"], path: child(path, key))
            }
        }
        return errors
    }
}
