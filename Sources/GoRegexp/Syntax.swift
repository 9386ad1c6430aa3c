/// The parsed form of a pattern, shaped like Go's syntax.Regexp. Non-greediness and capture names are
/// parsed but not kept: a yes/no match cannot observe them.
struct Node: Sendable {
    indirect enum Kind: Sendable {
        case emptyMatch
        /// An empty alternation; never matches.
        case noMatch
        case literal(UInt32, foldCase: Bool)
        case characterClass(CharacterClass)
        case anyChar
        case anyCharNotNewline
        case assertion(Assertion)
        /// A capturing group: transparent to matching, but kept so nesting depth counts as Go's does.
        case capture(Node)
        case star(Node)
        case plus(Node)
        case quest(Node)
        /// `{min,max}`; max is -1 for `{min,}`.
        case repetition(Node, min: Int, max: Int)
        case concat([Node])
        case alternate([Node])
    }

    let kind: Kind
    /// Depth of the tree below and including this node; Go refuses trees deeper than 1000.
    let height: Int

    init(_ kind: Kind) {
        self.kind = kind
        if case .concat(let subs) = kind, Self.isLiteralString(subs) {
            // Go merges a run of literals into one string node, one level deep.
            height = 1
        } else {
            height = 1 + (kind.children.map(\.height).max() ?? 0)
        }
    }

    private static func isLiteralString(_ subs: [Node]) -> Bool {
        guard case .literal(_, let fold)? = subs.first?.kind else { return false }
        return subs.allSatisfy {
            if case .literal(_, fold) = $0.kind { return true }
            return false
        }
    }

    /// The direct subexpressions.
    var children: [Node] { kind.children }

    /// Whether this can stand in a merged character class (a single rune, a class or a dot), as Go's
    /// isCharClass decides what an alternation may fold into one class.
    var asCharacterClass: CharacterClass? {
        switch kind {
        case .literal(let value, let foldCase):
            return foldCase ? CharacterClass(CaseFolding.orbit(of: value).map { $0...$0 }) : CharacterClass(single: value)
        case .characterClass(let cls): return cls
        case .anyChar: return .all
        case .anyCharNotNewline: return CharacterClass([0...0x09, 0x0B...CharacterClass.maxCodePoint])
        default: return nil
        }
    }
}

extension Node.Kind {
    var children: [Node] {
        switch self {
        case .capture(let sub), .star(let sub), .plus(let sub), .quest(let sub), .repetition(let sub, _, _): [sub]
        case .concat(let subs), .alternate(let subs): subs
        default: []
        }
    }
}

/// Zero-width conditions on the text around a position.
enum Assertion: Sendable {
    /// `(?m)^`: at the start of text or after a newline.
    case beginLine
    /// `(?m)$`: at the end of text or before a newline.
    case endLine
    /// `\A`, or `^` without (?m).
    case beginText
    /// `\z`, or `$` without (?m) (Go's `$` does not match before a final newline).
    case endText
    case wordBoundary
    case noWordBoundary
}

/// Parser state that `(?flags)` changes; Go's Perl defaults are all false here.
struct Flags: Sendable {
    var foldCase = false
    /// `(?s)`: `.` also matches newline.
    var dotMatchesNewline = false
    /// `(?m)`: `^` and `$` match at line boundaries (Go's OneLine cleared).
    var multiLine = false
    /// `(?U)`: swaps greedy and non-greedy; parsed for fidelity, irrelevant to a yes/no match.
    var ungreedy = false
}
