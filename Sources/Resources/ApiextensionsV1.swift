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

    static func validateVersions(_ versions: JSON) -> [FieldError] {
        let list = versions.array ?? []
        var errors: [FieldError] = []
        for (i, version) in list.enumerated() {
            let path = "spec.versions[\(i)]"
            let name = version["name"]
            let nameErrors = NameValidation.dns1035Label(name.string ?? "")
            if !nameErrors.isEmpty { errors.append(.invalid(path + ".name", name, nameErrors.joined(separator: ","))) }
            errors += validateScale(version["subresources"]["scale"], path + ".subresources.scale")
            for (j, column) in (version["additionalPrinterColumns"].array ?? []).enumerated() {
                errors += validateColumn(column, "\(path).additionalPrinterColumns[\(j)]")
            }
            let schema = version["schema"]["openAPIV3Schema"]
            if schema.isNull {
                errors.append(.required(path + ".schema.openAPIV3Schema", "schemas are required"))
            } else {
                errors += validateStructural(schema, path + ".schema.openAPIV3Schema", level: .root)
            }
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

    // MARK: OpenAPI

    static func ref(_ name: String, _ description: String = "") -> JSON { Schema.ref(prefix + name, description) }

    public static let schemas: [String: JSON] = [
        prefix + "CustomResourceDefinition": Schema.kind(
            group, "v1", "CustomResourceDefinition",
            "CustomResourceDefinition represents a resource that should be exposed on the API server.  Its name MUST be in the format <.spec.name>.<.spec.group>.",
            required: ["spec"], Schema.withTypeMeta([
                "spec": ref("CustomResourceDefinitionSpec", "spec describes how the user wants the resources to appear"),
                "status": ref("CustomResourceDefinitionStatus", "status indicates the actual state of the CustomResourceDefinition"),
            ])),
        prefix + "CustomResourceDefinitionList": Schema.list(group, "v1", "CustomResourceDefinition", items: prefix + "CustomResourceDefinition"),
        prefix + "CustomResourceDefinitionSpec": Schema.object(
            "CustomResourceDefinitionSpec describes how a user wants their resource to appear",
            required: ["group", "names", "scope", "versions"], [
                "group": Schema.string("group is the API group of the defined custom resource. The custom resources are served under `/apis/<group>/...`. Must match the name of the CustomResourceDefinition (in the form `<names.plural>.<group>`)."),
                "names": ref("CustomResourceDefinitionNames", "names specify the resource and kind names for the custom resource."),
                "scope": Schema.string("scope indicates whether the defined custom resource is cluster- or namespace-scoped. Allowed values are `Cluster` and `Namespaced`."),
                "versions": Schema.array(ref("CustomResourceDefinitionVersion"), "versions is the list of all API versions of the defined custom resource. Version names are used to compute the order in which served versions are listed in API discovery. If the version string is \"kube-like\", it will sort above non \"kube-like\" version strings, which are ordered lexicographically. \"Kube-like\" versions start with a \"v\", then are followed by a number (the major version), then optionally the string \"alpha\" or \"beta\" and another number (the minor version). These are sorted first by GA > beta > alpha (where GA is a version with no suffix such as beta or alpha), and then by comparing major version, then minor version. An example sorted list of versions: v10, v2, v1, v11beta2, v10beta3, v3beta1, v12alpha1, v11alpha2, foo1, foo10.", listType: "atomic"),
                "conversion": ref("CustomResourceConversion", "conversion defines conversion settings for the CRD."),
                "preserveUnknownFields": Schema.boolean("preserveUnknownFields indicates that object fields which are not specified in the OpenAPI schema should be preserved when persisting to storage. apiVersion, kind, metadata and known fields inside metadata are always preserved. This field is deprecated in favor of setting `x-preserve-unknown-fields` to true in `spec.versions[*].schema.openAPIV3Schema`. See https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#field-pruning for details."),
            ]),
        prefix + "CustomResourceDefinitionNames": Schema.object(
            "CustomResourceDefinitionNames indicates the names to serve this CustomResourceDefinition",
            required: ["plural", "kind"], [
                "plural": Schema.string("plural is the plural name of the resource to serve. The custom resources are served under `/apis/<group>/<version>/.../<plural>`. Must match the name of the CustomResourceDefinition (in the form `<names.plural>.<group>`). Must be all lowercase."),
                "singular": Schema.string("singular is the singular name of the resource. It must be all lowercase. Defaults to lowercased `kind`."),
                "shortNames": Schema.stringList("shortNames are short names for the resource, exposed in API discovery documents, and used by clients to support invocations like `kubectl get <shortname>`. It must be all lowercase."),
                "kind": Schema.string("kind is the serialized kind of the resource. It is normally CamelCase and singular. Custom resource instances will use this value as the `kind` attribute in API calls."),
                "listKind": Schema.string("listKind is the serialized kind of the list for this resource. Defaults to \"`kind`List\"."),
                "categories": Schema.stringList("categories is a list of grouped resources this custom resource belongs to (e.g. 'all'). This is published in API discovery documents, and used by clients to support invocations like `kubectl get all`."),
            ]),
        prefix + "CustomResourceDefinitionVersion": Schema.object(
            "CustomResourceDefinitionVersion describes a version for CRD.", required: ["name", "served", "storage"], [
                "name": Schema.string("name is the version name, e.g. “v1”, “v2beta1”, etc. The custom resources are served under this version at `/apis/<group>/<version>/...` if `served` is true."),
                "served": Schema.boolean("served is a flag enabling/disabling this version from being served via REST APIs"),
                "storage": Schema.boolean("storage indicates this version should be used when persisting custom resources to storage. There must be exactly one version with storage=true."),
                "deprecated": Schema.boolean("deprecated indicates this version of the custom resource API is deprecated. When set to true, API requests to this version receive a warning header in the server response. Defaults to false."),
                "deprecationWarning": Schema.string("deprecationWarning overrides the default warning returned to API clients. May only be set when `deprecated` is true. The default warning indicates this version is deprecated and recommends use of the newest served version of equal or greater stability, if one exists."),
                "schema": ref("CustomResourceValidation", "schema describes the schema used for validation, pruning, and defaulting of this version of the custom resource."),
                "subresources": ref("CustomResourceSubresources", "subresources specify what subresources this version of the defined custom resource have."),
                "additionalPrinterColumns": Schema.array(ref("CustomResourceColumnDefinition"), "additionalPrinterColumns specifies additional columns returned in Table output. See https://kubernetes.io/docs/reference/using-api/api-concepts/#receiving-resources-as-tables for details. If no columns are specified, a single column displaying the age of the custom resource is used.", listType: "atomic"),
                "selectableFields": Schema.array(ref("SelectableField"), "selectableFields specifies paths to fields that may be used as field selectors. A maximum of 8 selectable fields are allowed. See https://kubernetes.io/docs/concepts/overview/working-with-objects/field-selectors", listType: "atomic"),
            ]),
        prefix + "CustomResourceValidation": Schema.object(
            "CustomResourceValidation is a list of validation methods for CustomResources.", [
                "openAPIV3Schema": ref("JSONSchemaProps", "openAPIV3Schema is the OpenAPI v3 schema to use for validation and pruning."),
            ]),
        // Schemas nest without bound; kept as sent rather than spelled out member by member.
        prefix + "JSONSchemaProps": Schema.preserveUnknown("JSONSchemaProps is a JSON-Schema following Specification Draft 4 (http://json-schema.org/)."),
        prefix + "CustomResourceSubresources": Schema.object(
            "CustomResourceSubresources defines the status and scale subresources for CustomResources.", [
                "status": ref("CustomResourceSubresourceStatus", "status indicates the custom resource should serve a `/status` subresource. When enabled: 1. requests to the custom resource primary endpoint ignore changes to the `status` stanza of the object. 2. requests to the custom resource `/status` subresource ignore changes to anything other than the `status` stanza of the object."),
                "scale": ref("CustomResourceSubresourceScale", "scale indicates the custom resource should serve a `/scale` subresource that returns an `autoscaling/v1` Scale object."),
            ]),
        prefix + "CustomResourceSubresourceStatus": [
            "type": "object",
            "description": "CustomResourceSubresourceStatus defines how to serve the status subresource for CustomResources. Status is represented by the `.status` JSON path inside of a CustomResource. When set, * exposes a /status subresource for the custom resource * PUT requests to the /status subresource take a custom resource object, and ignore changes to anything except the status stanza * PUT/POST/PATCH requests to the custom resource ignore changes to the status stanza",
        ],
        prefix + "CustomResourceSubresourceScale": Schema.object(
            "CustomResourceSubresourceScale defines how to serve the scale subresource for CustomResources.",
            required: ["specReplicasPath", "statusReplicasPath"], [
                "specReplicasPath": Schema.string("specReplicasPath defines the JSON path inside of a custom resource that corresponds to Scale `spec.replicas`. Only JSON paths without the array notation are allowed. Must be a JSON Path under `.spec`. If there is no value under the given path in the custom resource, the `/scale` subresource will return an error on GET."),
                "statusReplicasPath": Schema.string("statusReplicasPath defines the JSON path inside of a custom resource that corresponds to Scale `status.replicas`. Only JSON paths without the array notation are allowed. Must be a JSON Path under `.status`. If there is no value under the given path in the custom resource, the `status.replicas` value in the `/scale` subresource will default to 0."),
                "labelSelectorPath": Schema.string("labelSelectorPath defines the JSON path inside of a custom resource that corresponds to Scale `status.selector`. Only JSON paths without the array notation are allowed. Must be a JSON Path under `.status` or `.spec`. Must be set to work with HorizontalPodAutoscaler. The field pointed by this JSON path must be a string field (not a complex selector struct) which contains a serialized label selector in string form. More info: https://kubernetes.io/docs/tasks/access-kubernetes-api/custom-resources/custom-resource-definitions#scale-subresource If there is no value under the given path in the custom resource, the `status.selector` value in the `/scale` subresource will default to the empty string."),
            ]),
        prefix + "CustomResourceColumnDefinition": Schema.object(
            "CustomResourceColumnDefinition specifies a column for server side printing.", required: ["name", "type", "jsonPath"], [
                "name": Schema.string("name is a human readable name for the column."),
                "type": Schema.string("type is an OpenAPI type definition for this column. See https://github.com/OAI/OpenAPI-Specification/blob/master/versions/2.0.md#data-types for details."),
                "format": Schema.string("format is an optional OpenAPI type definition for this column. The 'name' format is applied to the primary identifier column to assist in clients identifying column is the resource name. See https://github.com/OAI/OpenAPI-Specification/blob/master/versions/2.0.md#data-types for details."),
                "description": Schema.string("description is a human readable description of this column."),
                "priority": Schema.integer("priority is an integer defining the relative importance of this column compared to others. Lower numbers are considered higher priority. Columns that may be omitted in limited space scenarios should be given a priority greater than 0."),
                "jsonPath": Schema.string("jsonPath is a simple JSON path (i.e. with array notation) which is evaluated against each custom resource to produce the value for this column."),
            ]),
        prefix + "SelectableField": Schema.object(
            "SelectableField specifies the JSON path of a field that may be used with field selectors.", required: ["jsonPath"], [
                "jsonPath": Schema.string("jsonPath is a simple JSON path which is evaluated against each custom resource to produce a field selector value. Only JSON paths without the array notation are allowed. Must point to a field of type string, boolean or integer. Types with enum values and strings with formats are allowed. If jsonPath refers to absent field in a resource, the jsonPath evaluates to an empty string. Must not point to metdata fields. Required."),
            ]),
        prefix + "CustomResourceConversion": Schema.object(
            "CustomResourceConversion describes how to convert different versions of a CR.", required: ["strategy"], [
                "strategy": Schema.string("strategy specifies how custom resources are converted between versions. Allowed values are: - `\"None\"`: The converter only change the apiVersion and would not touch any other field in the custom resource. - `\"Webhook\"`: API Server will call to an external webhook to do the conversion. Additional information\n  is needed for this option. This requires spec.preserveUnknownFields to be false, and spec.conversion.webhook to be set."),
                "webhook": ref("WebhookConversion", "webhook describes how to call the conversion webhook. Required when `strategy` is set to `\"Webhook\"`."),
            ]),
        prefix + "WebhookConversion": Schema.object(
            "WebhookConversion describes how to call a conversion webhook", required: ["conversionReviewVersions"], [
                "clientConfig": ref("WebhookClientConfig", "clientConfig is the instructions for how to call the webhook if strategy is `Webhook`."),
                "conversionReviewVersions": Schema.stringList("conversionReviewVersions is an ordered list of preferred `ConversionReview` versions the Webhook expects. The API server will use the first version in the list which it supports. If none of the versions specified in this list are supported by API server, conversion will fail for the custom resource. If a persisted Webhook configuration specifies allowed versions and does not include any versions known to the API Server, calls to the webhook will fail."),
            ]),
        prefix + "WebhookClientConfig": Schema.object(
            "WebhookClientConfig contains the information to make a TLS connection with the webhook.", [
                "url": Schema.string("url gives the location of the webhook, in standard URL form (`scheme://host:port/path`). Exactly one of `url` or `service` must be specified."),
                "service": ref("ServiceReference", "service is a reference to the service for this webhook. Either service or url must be specified.\n\nIf the webhook is running within the cluster, then you should use `service`."),
                "caBundle": Schema.string("caBundle is a PEM encoded CA bundle which will be used to validate the webhook's server certificate. If unspecified, system trust roots on the apiserver are used.", format: "byte"),
            ]),
        prefix + "ServiceReference": Schema.object(
            "ServiceReference holds a reference to Service.legacy.k8s.io", required: ["namespace", "name"], [
                "namespace": Schema.string("namespace is the namespace of the service. Required"),
                "name": Schema.string("name is the name of the service. Required"),
                "path": Schema.string("path is an optional URL path at which the webhook will be contacted."),
                "port": Schema.integer("port is an optional service port at which the webhook will be contacted. `port` should be a valid port number (1-65535, inclusive). Defaults to 443 for backward compatibility."),
            ]),
        prefix + "CustomResourceDefinitionStatus": Schema.object(
            "CustomResourceDefinitionStatus indicates the state of the CustomResourceDefinition", [
                "conditions": Schema.array(ref("CustomResourceDefinitionCondition"), "conditions indicate state for particular aspects of a CustomResourceDefinition",
                                           listType: "map", mapKeys: ["type"]),
                "acceptedNames": ref("CustomResourceDefinitionNames", "acceptedNames are the names that are actually being used to serve discovery. They may be different than the names in spec."),
                "storedVersions": Schema.stringList("storedVersions lists all versions of CustomResources that were ever persisted. Tracking these versions allows a migration path for stored versions in etcd. The field is mutable so a migration controller can finish a migration to another version (ensuring no old objects are left in storage), and then remove the rest of the versions from this list. Versions may not be removed from `spec.versions` while they exist in this list."),
            ]),
        prefix + "CustomResourceDefinitionCondition": Schema.object(
            "CustomResourceDefinitionCondition contains details for the current condition of this pod.", required: ["type", "status"], [
                "type": Schema.string("type is the type of the condition. Types include Established, NamesAccepted and Terminating."),
                "status": Schema.string("status is the status of the condition. Can be True, False, Unknown."),
                "lastTransitionTime": Schema.time("lastTransitionTime last time the condition transitioned from one status to another."),
                "reason": Schema.string("reason is a unique, one-word, CamelCase reason for the condition's last transition."),
                "message": Schema.string("message is a human-readable message indicating details about last transition."),
                "observedGeneration": Schema.integer("observedGeneration represents the .metadata.generation that the condition was set based upon. For instance, if .metadata.generation is currently 12, but the .status.conditions[x].observedGeneration is 9, the condition is out of date with respect to the current state of the instance.", format: "int64"),
            ]),
    ]
}
