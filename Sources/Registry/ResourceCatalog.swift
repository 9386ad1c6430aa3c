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
        var generation = 0
    }

    private let state: Mutex<State>
    public let builtinSchemas: [String: JSON]

    public init(builtin: [ResourceDefinition], schemas: [String: JSON]) {
        state = Mutex(State(builtin: builtin))
        builtinSchemas = schemas
    }

    public var all: [ResourceDefinition] {
        state.withLock { s in s.builtin + s.custom.keys.sorted().flatMap { s.custom[$0]! } }
    }

    /// Bumped whenever the set of served resources changes, so cached documents can be rebuilt.
    public var generation: Int { state.withLock { $0.generation } }

    public var schemas: [String: JSON] {
        state.withLock { s in
            var all = builtinSchemas
            for (_, defs) in s.customSchemas { all.merge(defs) { _, new in new } }
            return all
        }
    }

    public func lookup(group: String, version: String, plural: String) -> ResourceDefinition? {
        state.withLock { s in
            s.builtin.first { $0.group == group && $0.version == version && $0.plural == plural }
                ?? s.custom.values.lazy.flatMap { $0 }.first { $0.group == group && $0.version == version && $0.plural == plural }
        }
    }

    public func lookup(group: String, version: String, kind: String) -> ResourceDefinition? {
        all.first { $0.group == group && $0.version == version && $0.kind == kind }
    }

    public func setCustom(crdName: String, definitions: [ResourceDefinition], schemas: [String: JSON]) {
        state.withLock { s in
            if definitions.isEmpty {
                s.custom.removeValue(forKey: crdName)
                s.customSchemas.removeValue(forKey: crdName)
            } else {
                s.custom[crdName] = definitions
                s.customSchemas[crdName] = schemas
            }
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
