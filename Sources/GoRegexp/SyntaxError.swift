extension GoRegexp {
    /// A pattern Go's regexp.Compile would refuse, described in Go's words:
    /// "error parsing regexp: <code>: `<fragment>`".
    public struct SyntaxError: Error, Sendable, CustomStringConvertible {
        public let description: String

        init(_ code: ErrorCode, _ fragment: String) {
            description = "error parsing regexp: \(code.rawValue): `\(fragment)`"
        }
    }

    /// Go's regexp/syntax ErrorCode texts.
    enum ErrorCode: String, Sendable {
        case invalidCharClass = "invalid character class"
        case invalidCharRange = "invalid character class range"
        case invalidEscape = "invalid escape sequence"
        case invalidNamedCapture = "invalid named capture"
        case invalidPerlOp = "invalid or unsupported Perl syntax"
        case invalidRepeatOp = "invalid nested repetition operator"
        case invalidRepeatSize = "invalid repeat count"
        case missingBracket = "missing closing ]"
        case missingParen = "missing closing )"
        case missingRepeatArgument = "missing argument to repetition operator"
        case trailingBackslash = "trailing backslash at end of expression"
        case unexpectedParen = "unexpected )"
        case nestingDepth = "expression nests too deeply"
        case large = "expression too large"
    }
}
