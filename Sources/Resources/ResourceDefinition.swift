import APIMachinery

/// A resource as a value (DESIGN rule 3): everything the generic store, discovery, OpenAPI and the
/// table printer need to serve it. Built-in types are declared in one file per API group; a CRD
/// becomes one of these at run time.
public struct ResourceDefinition: Sendable {
    public var group: String
    public var version: String
    public var kind: String
    public var plural: String
    public var singular: String
    public var shortNames: [String]
    public var categories: [String]
    public var namespaced: Bool
    public var verbs: [String]
    /// The object has a status written through /status; the main endpoint keeps it as it was.
    public var hasStatus: Bool
    public var scale: ScaleSubresource?
    /// metadata.generation is set on create and bumped when anything but metadata and status changes.
    public var tracksGeneration: Bool
    public var nameRule: NameRule
    public var strategy: ResourceStrategy
    /// Table columns after NAME (which every table has first), upstream's for the type.
    public var columns: [PrinterColumn]
    /// Field selectors beyond metadata.name and metadata.namespace, each reading its value.
    public var fieldSelectors: [String: @Sendable (JSON) -> String?]
    /// The OpenAPI definition name of the kind, e.g. io.k8s.api.core.v1.Pod.
    public var schemaName: String?
    /// Sent as a warning with every request to a deprecated API (kubectl prints `Warning: ...`).
    public var deprecationWarning: String?
    /// Set when this resource is another one's objects seen through a second API group: nil for
    /// resources that keep their own.
    public var storedAs: StoredVersion?
    /// Where its objects live in the store, below `/registry/` (StoragePath); nil for custom
    /// resources, which live at their group and plural.
    public var storagePath: String?
    /// Whether a finished delete answers the deleted object rather than a Success Status
    /// (upstream's ReturnDeletedObject: pods, services, service accounts, storage classes).
    public var returnsDeletedObject = false
    /// For a resource kept but not yet acted on (no webhook called, no autoscaling, no signing):
    /// the warning each create answers, so nothing pretends to work.
    public var storedOnlyWarning: String?
    /// Subresources beyond status and scale (a pod's binding, eviction, log, exec, ...), as
    /// discovery lists them; the API server serves each by its name, for the resources declaring it.
    public var subresources: [Subresource] = []

    public static let standardVerbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]

    public init(
        group: String, version: String, kind: String, plural: String, singular: String? = nil,
        shortNames: [String] = [], categories: [String] = [], namespaced: Bool = true,
        verbs: [String] = ResourceDefinition.standardVerbs, hasStatus: Bool = false, scale: ScaleSubresource? = nil,
        tracksGeneration: Bool = false, nameRule: NameRule = .dns1123Subdomain, strategy: ResourceStrategy = .init(),
        columns: [PrinterColumn] = [.age], fieldSelectors: [String: @Sendable (JSON) -> String?] = [:],
        schemaName: String? = nil, deprecationWarning: String? = nil, storedAs: StoredVersion? = nil
    ) {
        self.group = group
        self.version = version
        self.kind = kind
        self.plural = plural
        self.singular = singular ?? kind.lowercased()
        self.shortNames = shortNames
        self.categories = categories
        self.namespaced = namespaced
        self.verbs = verbs
        self.hasStatus = hasStatus
        self.scale = scale
        self.tracksGeneration = tracksGeneration
        self.nameRule = nameRule
        self.strategy = strategy
        self.columns = columns
        self.fieldSelectors = fieldSelectors
        self.schemaName = schemaName
        self.deprecationWarning = deprecationWarning
        self.storedAs = storedAs
    }

    public func serves(_ subresource: String) -> Bool { subresources.contains { $0.name == subresource } }

    /// The same resource, with these subresources.
    public func with(_ subresources: [Subresource]) -> ResourceDefinition {
        var d = self
        d.subresources = subresources
        return d
    }

    /// The same resource, answering a delete with the deleted object.
    public func returningDeletedObject() -> ResourceDefinition {
        var def = self
        def.returnsDeletedObject = true
        return def
    }

    /// The same resource, with a warning for every request to it.
    public func deprecated(_ warning: String) -> ResourceDefinition {
        var def = self
        def.deprecationWarning = warning
        return def
    }

    /// The Go struct (as ProtobufFields names it, `apps.v1.Deployment`) a built-in kind decodes
    /// into; nil for custom resources.
    public var protobufMessage: String? {
        guard let schemaName, schemaName.hasPrefix("io.k8s.api.") else { return nil }
        let package = group.isEmpty ? "core" : String(group.prefix { $0 != "." })
        return "\(package).\(version).\(kind)"
    }

    public var groupVersion: GroupVersion { GroupVersion(group: group, version: version) }
    public var groupResource: GroupResource { GroupResource(group: group, resource: plural) }
    public var apiVersion: String { groupVersion.description }
    public var listKind: String { kind + "List" }

    /// Where this resource's objects are kept: shared by all its versions, and by another
    /// group's resource serving the same objects (events); upstream calls such resources equivalent.
    public var storageResource: GroupResource {
        storedAs.map { GroupResource(group: $0.group, resource: $0.plural) } ?? GroupResource(group: group, resource: plural)
    }

    /// An object of this resource in the form of `other`, an equivalent resource.
    public func convert(_ object: JSON, to other: ResourceDefinition) -> JSON {
        guard case .object = object, other.groupVersion != groupVersion || other.plural != plural else { return object }
        let stored = storedAs?.toStorage(object) ?? object
        var converted = other.storedAs?.fromStorage(stored) ?? stored
        converted["apiVersion"] = .string(other.apiVersion)
        return converted
    }
}

/// Where a resource served through two API groups keeps its objects, and how this group's form
/// converts to and from the stored one. Upstream keeps one object per event and serves it both as
/// core/v1 and as events.k8s.io/v1; here the store holds the core form and the registry converts
/// at its edges, so strategies, columns and selectors see the form they were declared for.
public struct StoredVersion: Sendable {
    /// The group and plural the objects are stored under.
    public var group: String
    public var plural: String
    public var fromStorage: @Sendable (JSON) -> JSON
    public var toStorage: @Sendable (JSON) -> JSON

    public init(group: String, plural: String, fromStorage: @escaping @Sendable (JSON) -> JSON,
                toStorage: @escaping @Sendable (JSON) -> JSON) {
        self.group = group
        self.plural = plural
        self.fromStorage = fromStorage
        self.toStorage = toStorage
    }
}

public struct ScaleSubresource: Sendable {
    public var specReplicasPath: [String]
    public var statusReplicasPath: [String]
    public var labelSelectorPath: [String]?
    public init(specReplicasPath: [String] = ["spec", "replicas"], statusReplicasPath: [String] = ["status", "replicas"],
                labelSelectorPath: [String]? = nil) {
        self.specReplicasPath = specReplicasPath
        self.statusReplicasPath = statusReplicasPath
        self.labelSelectorPath = labelSelectorPath
    }
}

/// Which of upstream's name rules metadata.name follows for a type.
public enum NameRule: Sendable {
    case dns1123Subdomain, dns1123Label, dns1035Label, pathSegment

    public func validate(_ name: String) -> [String] {
        switch self {
        case .dns1123Subdomain: return NameValidation.dns1123Subdomain(name)
        case .dns1123Label: return NameValidation.dns1123Label(name)
        case .dns1035Label: return NameValidation.dns1035Label(name)
        case .pathSegment: return NameValidation.pathSegmentName(name)
        }
    }
}

/// The per-type behaviour of the generic store, as upstream's registry strategies have it.
/// All hooks are pure functions of the objects; the store does the rest.
public struct ResourceStrategy: Sendable {
    /// Fills in the defaults a real cluster shows (on create, update and dry runs alike).
    public var defaults: @Sendable (inout JSON) -> Void
    /// Sets what the server owns on create (e.g. status.phase Pending).
    public var prepareForCreate: @Sendable (inout JSON) -> Void
    /// Validation of the whole object, on create and update. Field paths are from the root.
    public var validate: @Sendable (JSON) -> [FieldError]
    /// Extra checks on update given the old object (immutable fields).
    public var validateUpdate: @Sendable (_ new: JSON, _ old: JSON) -> [FieldError]
    /// Extra checks on create alone (fields only a subresource may set later).
    public var validateCreate: @Sendable (JSON) -> [FieldError]
    /// Drops the fields the schema does not know and names them ("spec.colour"), for types whose
    /// schema is complete (structural CRD schemas); nil keeps every field.
    public var pruneUnknownFields: (@Sendable (inout JSON) -> [String])?
    /// Records on create who asked for the object (a CertificateSigningRequest's requestor), as
    /// upstream's strategies read the request's user; given the API request's user, if any.
    public var recordRequester: (@Sendable (inout JSON, UserInfo?) -> Void)?
    /// The seconds a deleted object is given before it goes, from the delete's own request (nil when
    /// it asked none), as upstream's CheckGracefulDelete: a pod on a node gets its grace period,
    /// for its node agent to stop it. Without one, objects go at once.
    public var gracePeriod: (@Sendable (_ object: JSON, _ requested: Int64?) -> Int64)?
    /// upstream's PrepareForUpdate beyond what the store carries over: what a write through the
    /// object (nil), "status" or another subresource may change of it (a CSR's approval only
    /// through "approval").
    public var prepareForUpdate: (@Sendable (_ new: inout JSON, _ old: JSON, _ subresource: String?) -> Void)?
    /// The checks of a write through /status (and a subresource of the status, as a CSR's
    /// approval), which the object's own rules skip; nil checks metadata alone.
    public var validateStatusUpdate: (@Sendable (_ new: JSON, _ old: JSON) -> [FieldError])?
    /// Whether something besides metadata.finalizers has to finish the deletion (a namespace's
    /// spec.finalizers, which the namespace controller empties).
    public var hasPendingFinalizers: (@Sendable (JSON) -> Bool)?
    /// What marking the object for deletion sets besides its deletionTimestamp (a namespace's
    /// phase Terminating).
    public var markForDeletion: (@Sendable (inout JSON) -> Void)?

    public init(
        defaults: @escaping @Sendable (inout JSON) -> Void = { _ in },
        prepareForCreate: @escaping @Sendable (inout JSON) -> Void = { _ in },
        validate: @escaping @Sendable (JSON) -> [FieldError] = { _ in [] },
        validateUpdate: @escaping @Sendable (JSON, JSON) -> [FieldError] = { _, _ in [] },
        validateCreate: @escaping @Sendable (JSON) -> [FieldError] = { _ in [] },
        pruneUnknownFields: (@Sendable (inout JSON) -> [String])? = nil,
        gracePeriod: (@Sendable (JSON, Int64?) -> Int64)? = nil,
        hasPendingFinalizers: (@Sendable (JSON) -> Bool)? = nil,
        markForDeletion: (@Sendable (inout JSON) -> Void)? = nil
    ) {
        self.defaults = defaults
        self.prepareForCreate = prepareForCreate
        self.validate = validate
        self.validateUpdate = validateUpdate
        self.validateCreate = validateCreate
        self.pruneUnknownFields = pruneUnknownFields
        self.gracePeriod = gracePeriod
        self.hasPendingFinalizers = hasPendingFinalizers
        self.markForDeletion = markForDeletion
    }
}

/// A subresource as discovery lists it: its name, the kind it takes or answers, its verbs.
public struct Subresource: Sendable {
    public var name: String
    public var kind: GroupVersionKind
    public var verbs: [String]

    public init(_ name: String, _ kind: GroupVersionKind, _ verbs: [String]) {
        self.name = name
        self.kind = kind
        self.verbs = verbs
    }
}

/// One column of a server-side Table. Cells are JSON values (strings or integers).
public struct PrinterColumn: Sendable {
    public var name: String
    public var type: String
    public var format: String
    public var description: String
    /// 0: always shown; 1: shown with -o wide.
    public var priority: Int
    public var cell: @Sendable (JSON) -> JSON

    public init(_ name: String, type: String = "string", format: String = "", priority: Int = 0,
                description: String = "", cell: @escaping @Sendable (JSON) -> JSON) {
        self.name = name
        self.type = type
        self.format = format
        self.description = description
        self.priority = priority
        self.cell = cell
    }

    /// The AGE column every type ends with.
    public static let age = PrinterColumn(
        "Age", type: "string", description: "CreationTimestamp is a timestamp representing the server time when this object was created.",
        cell: { .string(APITime.age($0["metadata"]["creationTimestamp"])) })

    /// Access modes as kubectl abbreviates them (RWO, ROX, RWX, RWOP), in that order.
    public static func accessModes(_ path: [String]) -> PrinterColumn {
        PrinterColumn("Access Modes") { obj in
            let modes = Set((obj[path: path].array ?? []).compactMap(\.string))
            let short = [("ReadWriteOnce", "RWO"), ("ReadOnlyMany", "ROX"), ("ReadWriteMany", "RWX"), ("ReadWriteOncePod", "RWOP")]
            return .string(short.filter { modes.contains($0.0) }.map(\.1).joined(separator: ","))
        }
    }

    /// A column showing a string field at a path, or "<none>" when absent.
    public static func field(_ name: String, _ path: [String], priority: Int = 0, none: String = "<none>") -> PrinterColumn {
        PrinterColumn(name, priority: priority) { obj in
            let v = obj[path: path]
            switch v {
            case .null: return .string(none)
            case .string(let s): return .string(s.isEmpty ? none : s)
            case .int: return v
            default: return .string(v.jsonString)
            }
        }
    }
}

extension ResourceDefinition {
    /// A v1 built-in resource of `group` whose schema is upstream's definition of the kind.
    static func v1(_ group: String, _ kind: String, _ plural: String, _ short: [String] = [], namespaced: Bool = true,
                   hasStatus: Bool = false, columns: [PrinterColumn] = [.age], nameRule: NameRule = .dns1123Subdomain,
                   fields: [String: @Sendable (JSON) -> String?] = [:], strategy: ResourceStrategy = .init()) -> ResourceDefinition {
        let version = "v1"
        let pkg = group.isEmpty ? "core" : group.split(separator: ".").first.map(String.init)!
        return ResourceDefinition(group: group, version: version, kind: kind, plural: plural, shortNames: short, namespaced: namespaced,
            hasStatus: hasStatus, nameRule: nameRule, strategy: strategy, columns: columns, fieldSelectors: fields,
            schemaName: "io.k8s.api.\(pkg).\(version).\(kind)")
    }
}
