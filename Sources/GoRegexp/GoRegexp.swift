/// A regular expression in Go's regexp (RE2) syntax, matched in time linear in pattern size × input
/// size, as Kubernetes checks a CRD schema's `pattern`: a hostile pattern or input cannot stall the
/// caller. Text is matched per Unicode scalar, as Go matches per rune.
public struct GoRegexp: Sendable {
    public let pattern: String
    private let program: Program

    /// Compiles `pattern` as Go's regexp.Compile does; throws GoRegexp.SyntaxError whose `description` is Go's error text,
    /// e.g. "error parsing regexp: missing closing ]: `[a`".
    public init(_ pattern: String) throws(SyntaxError) {
        self.pattern = pattern
        program = try Compiler.compile(Parser.parse(pattern), pattern: pattern)
    }

    /// Whether the pattern matches anywhere in `text` (Go's MatchString: unanchored unless the pattern anchors itself).
    public func matches(_ text: String) -> Bool {
        Matcher(program: program).matches(text)
    }
}
