import APIMachinery
import Resources

/// Keeps metadata.managedFields as upstream does for writes that are not applies: each create,
/// update and patch records its manager ("Update" operation) as the owner of the fields it
/// added or changed; fields it changed are no longer owned by anyone else, and fields it removed
/// are owned by no one. Server-side apply builds on the same sets.
public struct FieldManager: Sendable {
    let typed: TypedFields

    public init(typed: TypedFields) { self.typed = typed }

    /// Fields the server owns: never in anyone's managed set.
    static let serverFields: FieldSet = FieldSet(paths: [
        ["f:apiVersion"], ["f:kind"],
        ["f:metadata", "f:name"], ["f:metadata", "f:namespace"], ["f:metadata", "f:uid"],
        ["f:metadata", "f:resourceVersion"], ["f:metadata", "f:generation"], ["f:metadata", "f:selfLink"],
        ["f:metadata", "f:creationTimestamp"], ["f:metadata", "f:deletionTimestamp"],
        ["f:metadata", "f:deletionGracePeriodSeconds"], ["f:metadata", "f:managedFields"],
    ])

    /// What a write through one endpoint may own: the main endpoint of a type with a status
    /// subresource does not own status, and /status owns nothing of spec (upstream's reset fields).
    static func ignored(_ def: ResourceDefinition, _ subresource: Registry.Subresource?) -> FieldSet {
        var ignored = serverFields
        if subresource == nil || subresource == .ephemeralContainers, def.hasStatus { ignored.insert(["f:status"]) }
        if subresource?.writesStatus == true { ignored.insert(["f:spec"]) }
        return ignored
    }

    /// The managedFields of `new` after `manager` wrote it over `old` (nil for a create).
    public func update(old: JSON?, new: JSON, def: ResourceDefinition, subresource: Registry.Subresource?,
                manager: String, now: String) throws(StatusError) -> JSON {
        let ignored = Self.ignored(def, subresource)
        // Only top-level parts that differ can hold touched or removed fields: a status write
        // need not walk the spec.
        var (oldPart, newPart) = (old ?? .emptyObject, new)
        if let o = old?.object, let n = new.object {
            let changed = Set(o.keys).union(n.keys).filter { o[$0] != n[$0] }
            oldPart = .object(o.filter { changed.contains($0.key) })
            newPart = .object(n.filter { changed.contains($0.key) })
        }
        let before = old == nil ? [:] : members(oldPart, def, ignored)
        let after = members(newPart, def, ignored)
        var touched = FieldSet(), removed = FieldSet()
        for (path, value) in after where before[path] != value { touched.insert(path) }
        for path in before.keys where after[path] == nil { removed.insert(path) }

        var entries = new["metadata"]["managedFields"].array ?? []
        var found = false
        for i in entries.indices {
            var fields = try FieldSet(fieldsV1: entries[i]["fieldsV1"])
            if Self.matches(entries[i], manager: manager, operation: "Update", def: def, subresource: subresource) {
                found = true
                fields = fields.union(touched)
                entries[i]["time"] = .string(now)
            } else {
                fields = fields.subtracting(touched)  // ownership moves to the writer
            }
            entries[i]["fieldsV1"] = fields.subtracting(removed).fieldsV1
        }
        if !found, !touched.isEmpty {
            var entry: JSON = ["manager": .string(manager), "operation": "Update", "apiVersion": .string(def.apiVersion),
                               "time": .string(now), "fieldsType": "FieldsV1", "fieldsV1": touched.fieldsV1]
            if let subresource { entry["subresource"] = .string(subresource.rawValue) }
            entries.append(entry)
        }
        entries.removeAll { ($0["fieldsV1"].object ?? [:]).isEmpty }
        return entries.isEmpty ? .null : .array(entries)
    }

    /// Server-side apply: `applied` laid over `live` (nil when the apply creates the object) for
    /// `manager`. A field another manager owns with a different value is a conflict (409) unless
    /// `force` moves it to the applier; fields this manager applied before and applies no more
    /// are removed when no one else owns them. Returns the object with its new managedFields.
    public func apply(live: JSON?, applied: JSON, def: ResourceDefinition, manager: String, force: Bool, now: String) throws(StatusError) -> JSON {
        let ignored = Self.ignored(def, nil)
        let appliedMembers = members(applied, def, ignored, for: .apply)
        let appliedSet = FieldSet(paths: appliedMembers.keys)
        let liveMembers = live.map { members($0, def, ignored) } ?? [:]
        var entries = live?["metadata"]["managedFields"].array ?? []
        var sets: [FieldSet] = []
        for entry in entries { sets.append(try FieldSet(fieldsV1: entry["fieldsV1"])) }
        let mine = entries.firstIndex { Self.matches($0, manager: manager, operation: "Apply", def: def, subresource: nil) }

        var conflicts: [(entry: Int, paths: [[String]])] = []
        for (i, owned) in sets.enumerated() where i != mine {
            let differing = owned.intersection(appliedSet).paths.filter { path in
                guard let a = appliedMembers[path], !a.isNull, let l = liveMembers[path] else { return false }
                return a != l
            }
            if !differing.isEmpty { conflicts.append((i, differing)) }
        }
        if !conflicts.isEmpty {
            guard force else { throw Self.conflictError(conflicts.map { (entries[$0.entry], $0.paths) }, def, applied) }
            for c in conflicts { sets[c.entry] = sets[c.entry].subtracting(FieldSet(paths: c.paths)) }
        }

        var object = StructuredMerge(typed: typed).merge(applied, into: live ?? .emptyObject, schemaName: def.schemaName)
        let previous = mine.map { sets[$0] } ?? FieldSet()
        var others = FieldSet()
        for (i, owned) in sets.enumerated() where i != mine { others = others.union(owned) }
        var doomed = FieldSet()
        for path in previous.subtracting(appliedSet).paths where !Self.ownsAnyOf(others, path) { doomed.insert(path) }
        StructuredMerge.remove(doomed, from: &object)

        if let mine {
            if sets[mine] != appliedSet { entries[mine]["time"] = .string(now) }
            sets[mine] = appliedSet
        } else {
            entries.append(["manager": .string(manager), "operation": "Apply", "apiVersion": .string(def.apiVersion),
                            "time": .string(now), "fieldsType": "FieldsV1"])
            sets.append(appliedSet)
        }
        var kept: [JSON] = []
        for (i, var entry) in entries.enumerated() where !sets[i].isEmpty {
            entry["fieldsV1"] = sets[i].fieldsV1
            kept.append(entry)
        }
        object["metadata"]["managedFields"] = kept.isEmpty ? .null : .array(kept)
        return object
    }

    /// Whether `set` has the path or anything under it: then the path is not the applier's to remove.
    static func ownsAnyOf(_ set: FieldSet, _ path: [String]) -> Bool {
        var node = set
        for element in path {
            if node.isMember && node.children.isEmpty { return true }
            guard let child = node.children[element] else { return false }
            node = child
        }
        return !node.isEmpty
    }

    /// Upstream's words: `Apply failed with 1 conflict: conflict with "kubectl-edit" using apps/v1: .spec.replicas`.
    static func conflictError(_ conflicts: [(JSON, [[String]])], _ def: ResourceDefinition, _ applied: JSON) -> StatusError {
        let total = conflicts.reduce(0) { $0 + $1.1.count }
        var parts: [String] = []
        var causes: [JSON] = []
        for (entry, paths) in conflicts {
            var who = "\"\(entry["manager"].string ?? "")\""
            if let version = entry["apiVersion"].string { who += " using \(version)" }
            if let sub = entry["subresource"].string { who += " with subresource \"\(sub)\"" }
            let fields = paths.map(StructuredMerge.describe)
            parts.append(fields.count == 1 ? "conflict with \(who): \(fields[0])"
                                           : "conflicts with \(who):\n" + fields.map { "- " + $0 }.joined(separator: "\n"))
            for f in fields { causes.append(["reason": "FieldManagerConflict", "message": .string("conflict with \(who)"), "field": .string(f)]) }
        }
        let message = "Apply failed with \(total) conflict\(total == 1 ? "" : "s"): " + parts.joined(separator: "\n")
        return StatusError(code: 409, reason: "Conflict", message: message,
                           details: ["name": applied["metadata"]["name"], "group": .string(def.group), "kind": .string(def.plural),
                                     "causes": .array(causes)])
    }

    private func members(_ object: JSON, _ def: ResourceDefinition, _ ignored: FieldSet,
                         for operation: TypedFields.Operation = .update) -> [[String]: JSON] {
        typed.members(of: object, schemaName: def.schemaName, for: operation).filter { path, _ in !Self.covered(path, by: ignored) }
    }

    /// Whether the path or one of its ancestors is a member of `set`.
    static func covered(_ path: [String], by set: FieldSet) -> Bool {
        var node = set
        for element in path {
            if node.isMember { return true }
            guard let child = node.children[element] else { return false }
            node = child
        }
        return node.isMember
    }

    static func matches(_ entry: JSON, manager: String, operation: String, def: ResourceDefinition, subresource: Registry.Subresource?) -> Bool {
        entry["manager"].string == manager && entry["operation"].string == operation
            && entry["apiVersion"].string == def.apiVersion && entry["subresource"].string == subresource?.rawValue
    }

    /// Checks the shape of managedFields a client sent, as upstream validates them.
    static func validate(_ managedFields: JSON) -> [FieldError] {
        guard let entries = managedFields.array else {
            return managedFields.isNull ? [] : [.invalid("metadata.managedFields", managedFields, "must be a list")]
        }
        var errors: [FieldError] = []
        for (i, entry) in entries.enumerated() {
            let path = "metadata.managedFields[\(i)]"
            if let op = entry["operation"].string, !["Apply", "Update"].contains(op) {
                errors.append(.notSupported("\(path).operation", .string(op), ["Apply", "Update"]))
            }
            if let type = entry["fieldsType"].string, type != "FieldsV1" {
                errors.append(.notSupported("\(path).fieldsType", .string(type), ["FieldsV1"]))
            }
            if (try? FieldSet(fieldsV1: entry["fieldsV1"].isNull ? .emptyObject : entry["fieldsV1"])) == nil {
                errors.append(.invalid("\(path).fieldsV1", entry["fieldsV1"], "invalid fieldsV1"))
            }
        }
        return errors
    }
}
