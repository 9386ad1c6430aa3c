import APIMachinery
import GoRegexp
import Synchronization

/// The `pattern`s of CRD schemas, as upstream treats them: Go's syntax, refused in Go's words
/// when a CRD is written, compiled once, and matched in time linear in the input (no
/// backtracking), so neither a pattern nor a value can stall a request.
enum SchemaPatterns {
    private static let compiled = Mutex<[String: GoRegexp]>([:])
    /// Patterns kept compiled; past it the cache starts over (CRDs rarely hold this many).
    static let capacity = 4_096

    /// The compiled pattern; nil for one Go would not compile (stored before patterns were
    /// checked), which then checks nothing, as before.
    static func regexp(_ pattern: String) -> GoRegexp? {
        if let known = compiled.withLock({ $0[pattern] }) { return known }
        guard let regexp = try? GoRegexp(pattern) else { return nil }
        compiled.withLock {
            if $0.count >= capacity { $0.removeAll() }
            $0[pattern] = regexp
        }
        return regexp
    }

    /// Every pattern in `schema` that does not compile, with upstream's message:
    /// `...properties[foo].pattern: Invalid value: "+": must be a valid regular expression, but
    /// isn't: error parsing regexp: missing argument to repetition operator: `+``.
    static func errors(in schema: JSON, _ path: String) -> [FieldError] {
        var errors: [FieldError] = []
        if let pattern = schema["pattern"].string, !pattern.isEmpty {
            do { _ = try GoRegexp(pattern) } catch {
                errors.append(.invalid(path + ".pattern", .string(pattern), "must be a valid regular expression, but isn't: \(error)"))
            }
        }
        for (name, child) in (schema["properties"].object ?? [:]).sorted(by: { $0.key < $1.key }) {
            errors += self.errors(in: child, "\(path).properties[\(name)]")
        }
        if schema["items"].object != nil { errors += self.errors(in: schema["items"], path + ".items") }
        for (i, item) in (schema["items"].array ?? []).enumerated() { errors += self.errors(in: item, "\(path).items[\(i)]") }
        if schema["additionalProperties"].object != nil {
            errors += self.errors(in: schema["additionalProperties"], path + ".additionalProperties")
        }
        for junctor in ["allOf", "anyOf", "oneOf"] {
            for (i, branch) in (schema[junctor].array ?? []).enumerated() { errors += self.errors(in: branch, "\(path).\(junctor)[\(i)]") }
        }
        if schema["not"].object != nil { errors += self.errors(in: schema["not"], path + ".not") }
        return errors
    }
}
