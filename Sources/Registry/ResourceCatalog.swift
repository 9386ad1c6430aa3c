import APIMachinery
import Resources
import Synchronization

/// Every resource the server serves right now: the built-in declarations plus one per served
/// version of each established CRD. Discovery, OpenAPI and routing all read this one table.
public final class ResourceCatalog: Sendable {
    private struct State {
        var builtin: [ResourceDefinition] = []
        var custom: [String: [ResourceDefinition]] = [:]  // by CRD name
        var customSchemas: [String: [String: JSON]] = [:]
        /// The built-in schemas with every CRD's merged in, kept rather than merged on each
        /// write: the built-ins are upstream's 600-odd definitions.
        var schemas: SchemaDefinitions
        var generation = 0
    }

    private let state: Mutex<State>
    public let builtinSchemas: SchemaDefinitions

    public convenience init(builtin: [ResourceDefinition], schemas: [String: JSON]) {
        self.init(builtin: builtin, schemas: SchemaDefinitions(schemas))
    }

    public init(builtin: [ResourceDefinition], schemas: SchemaDefinitions) {
        state = Mutex(State(builtin: builtin, schemas: schemas))
        builtinSchemas = schemas
    }

    public var all: [ResourceDefinition] {
        state.withLock { s in s.builtin + s.custom.keys.sorted().flatMap { s.custom[$0]! } }
    }

    /// Bumped whenever the set of served resources changes, so cached documents can be rebuilt.
    public var generation: Int { state.withLock { $0.generation } }

    public var schemas: SchemaDefinitions { state.withLock { $0.schemas } }

    public func lookup(group: String, version: String, plural: String) -> ResourceDefinition? {
        state.withLock { s in
            s.builtin.first { $0.group == group && $0.version == version && $0.plural == plural }
                ?? s.custom.values.lazy.flatMap { $0 }.first { $0.group == group && $0.version == version && $0.plural == plural }
        }
    }

    public func lookup(group: String, version: String, kind: String) -> ResourceDefinition? {
        all.first { $0.group == group && $0.version == version && $0.kind == kind }
    }

    /// The CRDs whose resources are served.
    public var customCRDNames: [String] { state.withLock { Array($0.custom.keys) } }

    public func setCustom(crdName: String, definitions: [ResourceDefinition], schemas: [String: JSON]) {
        state.withLock { s in
            if definitions.isEmpty {
                s.custom.removeValue(forKey: crdName)
                s.customSchemas.removeValue(forKey: crdName)
            } else {
                s.custom[crdName] = definitions
                s.customSchemas[crdName] = schemas
            }
            s.schemas = builtinSchemas.merging(s.customSchemas.values.reduce(into: [:]) { all, defs in all.merge(defs) { _, new in new } })
            s.generation += 1
        }
    }

    /// Group versions in discovery order: the core group first, then groups as declared.
    public var groupVersions: [GroupVersion] {
        var seen = Set<GroupVersion>()
        var out: [GroupVersion] = []
        for d in all where seen.insert(d.groupVersion).inserted { out.append(d.groupVersion) }
        return out
    }
}
