import Synchronization

/// OpenAPI definitions by name, where `$ref` members point: parsed schemas, over definitions
/// kept as JSON text, each parsed when first looked up.
///
/// Upstream's API is 600-odd definitions, 1.1 MB of text with their descriptions. Parsed all at
/// start they added 2.6 MB to an idle localkube; a cluster touches a few dozen of them (the
/// types written to it), so text stays text, unread, until a lookup needs it. OpenAPI documents,
/// which read many once, use `uncached(_:)`.
public struct SchemaDefinitions: Sendable {
    let texts: SchemaTexts?
    /// Parsed definitions that take precedence over the texts (custom resources' schemas,
    /// hand-written ones for types the texts lack).
    let parsed: [String: JSON]

    public init(_ parsed: [String: JSON] = [:]) {
        texts = nil
        self.parsed = parsed
    }

    /// Definitions as JSON text, by name (what scripts/generate-schemas.py writes).
    public init(texts: [(String, StaticString)]) {
        self.texts = SchemaTexts(texts)
        parsed = [:]
    }

    /// A definition without its descriptions (validation, patches and apply never read them).
    public subscript(_ name: String) -> JSON? {
        parsed[name] ?? texts?.definition(name, cache: true)
    }

    /// A definition with its descriptions, not kept once parsed.
    public func uncached(_ name: String) -> JSON? {
        parsed[name] ?? texts?.definition(name, cache: false)
    }

    public var names: Set<String> { Set(parsed.keys).union(texts?.names ?? []) }

    /// These definitions with `extra` over them.
    public func merging(_ extra: [String: JSON]) -> SchemaDefinitions {
        SchemaDefinitions(texts: texts, parsed: parsed.merging(extra) { _, new in new })
    }

    /// These definitions with `extra` under them: only names these do not have are added.
    public func filling(_ extra: [String: JSON]) -> SchemaDefinitions {
        SchemaDefinitions(texts: texts, parsed: parsed.merging(extra.filter { texts?.texts[$0.key] == nil }) { a, _ in a })
    }

    init(texts: SchemaTexts?, parsed: [String: JSON]) {
        self.texts = texts
        self.parsed = parsed
    }
}

/// The text of each definition, by name, and the ones parsed so far.
final class SchemaTexts: Sendable {
    let texts: [String: StaticString]
    let cache = Mutex<[String: JSON]>([:])

    var names: Set<String> { Set(texts.keys) }

    init(_ texts: [(String, StaticString)]) {
        self.texts = Dictionary(texts) { a, _ in a }
    }

    /// Kept definitions lose their descriptions (most of the text): only documents show them,
    /// and those parse the text afresh.
    func definition(_ name: String, cache keep: Bool) -> JSON? {
        if keep, let hit = cache.withLock({ $0[name] }) { return hit }
        guard let text = texts[name] else { return nil }
        let bytes = Array(UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
        guard let schema = try? JSON.parse(bytes) else { preconditionFailure("the definition of \(name) does not parse") }
        guard keep else { return schema }
        let kept = Self.withoutDescriptions(schema)
        cache.withLock { $0[name] = kept }
        return kept
    }

    static func withoutDescriptions(_ schema: JSON) -> JSON {
        switch schema {
        case .object(var o):
            // A member named "description" is a schema (an object), not a description (a string).
            if o["description"]?.string != nil { o["description"] = nil }
            return .object(o.mapValues(withoutDescriptions))
        case .array(let a):
            return .array(a.map(withoutDescriptions))
        default:
            return schema
        }
    }
}
