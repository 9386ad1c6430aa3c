import Synchronization

/// OpenAPI definitions by name, where `$ref` members point: a table of parsed schemas over a
/// set of definitions kept as JSON text, each parsed when first looked up.
///
/// Upstream's API is 600-odd definitions, 1.1 MB of text with their descriptions. Parsed all
/// at start they cost ~17 MB and ~70 ms; a cluster touches a few dozen of them (the types it is
/// written), so text stays text until a lookup needs it. OpenAPI documents, which read many
/// once, use `uncached(_:)`.
public struct SchemaDefinitions: Sendable {
    let texts: SchemaTexts?
    /// Parsed definitions that take precedence over the texts (custom resources' schemas,
    /// hand-written ones for types the texts lack).
    let parsed: [String: JSON]

    public init(_ parsed: [String: JSON] = [:]) {
        texts = nil
        self.parsed = parsed
    }

    /// Definitions from text, one per line: `"NAME":{...}`, between a first `{` and a last `}`
    /// line, as scripts/generate-schemas.py writes them.
    public init(lines texts: [StaticString]) {
        self.texts = SchemaTexts(texts)
        parsed = [:]
    }

    public subscript(_ name: String) -> JSON? {
        parsed[name] ?? texts?.definition(name, cache: true)
    }

    /// A definition, not kept once parsed (unless it already was).
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
        SchemaDefinitions(texts: texts, parsed: parsed.merging(extra.filter { texts?.names.contains($0.key) != true }) { a, _ in a })
    }

    init(texts: SchemaTexts?, parsed: [String: JSON]) {
        self.texts = texts
        self.parsed = parsed
    }
}

/// The text of each definition, by name, and the ones parsed so far.
final class SchemaTexts: Sendable {
    struct Location: Sendable {
        let text: Int
        let range: Range<Int>
    }

    let texts: [StaticString]
    let index: [String: Location]
    let cache = Mutex<[String: JSON]>([:])

    var names: Set<String> { Set(index.keys) }

    init(_ texts: [StaticString]) {
        self.texts = texts
        var index: [String: Location] = [:]
        for (t, text) in texts.enumerated() {
            let bytes = UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount)
            var start = 0
            while start < bytes.count {
                let end = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
                // `"NAME":{...}` with an optional trailing comma.
                if end - start > 2, bytes[start] == UInt8(ascii: "\""),
                   let close = bytes[(start + 1)..<end].firstIndex(of: UInt8(ascii: "\"")) {
                    let name = String(decoding: bytes[(start + 1)..<close], as: UTF8.self)
                    let valueEnd = bytes[end - 1] == UInt8(ascii: ",") ? end - 1 : end
                    index[name] = Location(text: t, range: (close + 2)..<valueEnd)
                }
                start = end + 1
            }
        }
        self.index = index
    }

    func definition(_ name: String, cache keep: Bool) -> JSON? {
        if let hit = cache.withLock({ $0[name] }) { return hit }
        guard let at = index[name] else { return nil }
        let text = texts[at.text]
        let bytes = Array(UnsafeBufferPointer(start: text.utf8Start + at.range.lowerBound, count: at.range.count))
        guard let schema = try? JSON.parse(bytes) else { preconditionFailure("the definition of \(name) does not parse") }
        if keep { cache.withLock { $0[name] = schema } }
        return schema
    }
}
