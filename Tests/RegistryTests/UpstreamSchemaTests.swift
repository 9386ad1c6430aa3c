import APIMachinery
import Resources
import Testing

/// The generated upstream definitions (Resources/Generated/), one API group at a time: every
/// served kind of the group has its definition, every reference resolves, and an object with
/// every field of the kind set comes through unknown-field pruning and serialization whole.
struct UpstreamSchemaTests {
    static let served = BuiltinResources.all

    /// API groups as the generated files name them (core for the legacy group).
    static let groups = Array(Set(served.filter { $0.schemaName?.hasPrefix("io.k8s.") == true }.map(group))).sorted()

    static func group(_ d: ResourceDefinition) -> String {
        d.group.isEmpty ? "core" : String(d.group.split(separator: ".")[0])
    }

    @Test(arguments: groups)
    func everyKindKeepsEveryField(group: String) throws {
        let definitions = UpstreamSchemas.definitions
        let kinds = Self.served.filter { Self.group($0) == group && $0.schemaName?.hasPrefix("io.k8s.") == true }
        #expect(!kinds.isEmpty)
        for d in kinds {
            let name = try #require(d.schemaName)
            let schema = try #require(definitions[name], "no upstream definition \(name) for \(d.kind)")
            #expect(schema["x-kubernetes-group-version-kind"][0]["kind"].string == d.kind)
            for referenced in Self.references(from: name, in: definitions) {
                #expect(definitions[referenced] != nil, "\(name) refers to \(referenced), which is not generated")
            }
            var example = Self.example(schema, definitions, path: [name])
            example["apiVersion"] = .string(d.apiVersion)
            example["kind"] = .string(d.kind)
            var pruned = example
            let unknown = SchemaPruner.prune(&pruned, schema, root: true, definitions: definitions)
            #expect(unknown.isEmpty, "\(d.kind): \(unknown)")
            #expect(pruned == example, "\(d.kind) lost fields")
            #expect(try JSON.parse(example.serialized()) == example, "\(d.kind) changed in a JSON round trip")
            // A field the type does not have is found at any depth.
            var extra = example
            extra["metadata"]["bogus"] = "x"
            #expect(SchemaPruner.prune(&extra, schema, root: true, definitions: definitions) == ["metadata.bogus"])
        }
    }

    /// Nulls read as Go decodes them and writes them back: an optional field's is left out, a
    /// required one's (no omitempty in Go) is its zero, a map value's and a list item's the element's zero.
    @Test func nullsBecomeWhatGoWritesBack() throws {
        let definitions = UpstreamSchemas.definitions
        let schema = try #require(definitions["io.k8s.api.rbac.v1.ClusterRole"])
        var role = try JSON.parse("""
            {"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"r","labels":{"a":null}},
             "aggregationRule":{"clusterRoleSelectors":[{"matchExpressions":[{"key":null,"operator":"In","values":null}]}]}}
            """)
        #expect(SchemaPruner.prune(&role, schema, root: true, definitions: definitions).isEmpty)
        #expect(role["metadata"]["labels"] == ["a": ""])
        #expect(role["aggregationRule"]["clusterRoleSelectors"][0]["matchExpressions"][0] == ["key": "", "operator": "In"])
    }

    /// The definitions `name` reaches through references.
    static func references(from name: String, in definitions: SchemaDefinitions) -> Set<String> {
        var seen: Set<String> = [], queue = [name]
        while let next = queue.popLast() {
            guard seen.insert(next).inserted, let schema = definitions[next] else { continue }
            collect(schema, into: &queue)
        }
        return seen
    }

    static func collect(_ schema: JSON, into queue: inout [String]) {
        switch schema {
        case .object(let o):
            if let ref = o[Schema.refKey]?.string { queue.append(ref) }
            for value in o.values { collect(value, into: &queue) }
        case .array(let a):
            for value in a { collect(value, into: &queue) }
        default:
            break
        }
    }

    /// A value with every field the schema declares set; a type met again inside itself
    /// (JSONSchemaProps) is left empty.
    static func example(_ schema: JSON, _ definitions: SchemaDefinitions, path: [String]) -> JSON {
        if let ref = schema[Schema.refKey].string {
            guard !path.contains(ref), let resolved = definitions[ref] else { return .emptyObject }
            return example(resolved, definitions, path: path + [ref])
        }
        if let properties = schema["properties"].object {
            return .object(properties.mapValues { example($0, definitions, path: path) })
        }
        if !schema["additionalProperties"].isNull {
            return ["key": example(schema["additionalProperties"], definitions, path: path)]
        }
        switch schema["type"].string {
        case "array": return [example(schema["items"], definitions, path: path)]
        case "integer": return 1
        case "number": return 1.5
        case "boolean": return true
        case "string":
            switch schema["format"].string {
            case "date-time": return "2026-12-02T10:00:00Z"
            case "byte": return "eA=="
            default: return "x"
            }
        default: return .emptyObject
        }
    }
}
