/// Reads Go's regexp syntax (Perl flags, as regexp.Compile uses) into a `Node` tree. It follows Go's
/// regexp/syntax parser step by step, a loop over the pattern with an explicit stack of parsed pieces and
/// pseudo-markers for `(` and `|`, because Go's error messages name the fragment where that parser
/// stopped, and reproducing the messages means stopping in the same places. No recursion depends on the
/// pattern, and trees deeper than Go's limit are refused, so later tree walks are bounded too.
struct Parser {
    /// Go's cap on a single `{n,m}` count and on the product of nested counts.
    static let maxRepeat = 1000
    /// Go's cap on the depth of the parse tree.
    static let maxHeight = 1000

    private let s: [Unicode.Scalar]
    private let whole: String
    private var flags = Flags()
    private var stack: [Item] = []

    private enum Item {
        case node(Node)
        /// An open group: the flags to restore at its `)`, and whether it captures.
        case leftParen(saved: Flags, capturing: Bool)
        /// Alternatives finished so far sit below this marker.
        case verticalBar

        var node: Node? {
            if case .node(let node) = self { return node }
            return nil
        }
    }

    private enum RepeatKind { case star, plus, quest, counted }

    static func parse(_ pattern: String) throws(GoRegexp.SyntaxError) -> Node {
        var parser = Parser(s: Array(pattern.unicodeScalars), whole: pattern)
        return try parser.run()
    }

    private init(s: [Unicode.Scalar], whole: String) {
        self.s = s
        self.whole = whole
    }

    private mutating func run() throws(GoRegexp.SyntaxError) -> Node {
        // Where the previous piece's repetition operator began, if it was one: Go refuses `a**`.
        var lastRepeat: Int? = nil
        var i = 0
        while i < s.count {
            var thisRepeat: Int? = nil
            switch s[i] {
            case "(":
                if i + 1 < s.count && s[i + 1] == "?" {
                    i = try parseGroupFlags(at: i)
                } else {
                    stack.append(.leftParen(saved: flags, capturing: true))
                    i += 1
                }
            case "|":
                try parseVerticalBar()
                i += 1
            case ")":
                try parseRightParen()
                i += 1
            case "^":
                try push(.assertion(flags.multiLine ? .beginLine : .beginText))
                i += 1
            case "$":
                try push(.assertion(flags.multiLine ? .endLine : .endText))
                i += 1
            case ".":
                try push(flags.dotMatchesNewline ? .anyChar : .anyCharNotNewline)
                i += 1
            case "[":
                i = try parseClass(at: i)
            case "*", "+", "?":
                let kind: RepeatKind = s[i] == "*" ? .star : s[i] == "+" ? .plus : .quest
                thisRepeat = i
                i = try applyRepeat(kind, min: 0, max: 0, at: i, after: i + 1, lastRepeat: lastRepeat)
            case "{":
                // A brace that does not form a valid repeat is a literal brace.
                guard let (min, max, after) = parseRepeatBraces(at: i) else {
                    try literal("{")
                    i += 1
                    break
                }
                if min < 0 || min > Self.maxRepeat || max > Self.maxRepeat || (max >= 0 && min > max) {
                    throw error(.invalidRepeatSize, i..<after)
                }
                thisRepeat = i
                i = try applyRepeat(.counted, min: min, max: max, at: i, after: after, lastRepeat: lastRepeat)
            case "\\":
                i = try parseBackslash(at: i)
            default:
                try literal(s[i])
                i += 1
            }
            lastRepeat = thisRepeat
        }
        try concat()
        if swapVerticalBar() { stack.removeLast() }
        try alternate()
        guard stack.count == 1, let node = stack[0].node else { throw GoRegexp.SyntaxError(.missingParen, whole) }
        return node
    }

    // MARK: Stack

    private mutating func push(_ kind: Node.Kind) throws(GoRegexp.SyntaxError) {
        try push(Node(kind))
    }

    private mutating func push(_ node: Node) throws(GoRegexp.SyntaxError) {
        try checkHeight(node)
        stack.append(.node(node))
    }

    private mutating func literal(_ scalar: Unicode.Scalar) throws(GoRegexp.SyntaxError) {
        try push(.literal(scalar.value, foldCase: flags.foldCase))
    }

    private func checkHeight(_ node: Node) throws(GoRegexp.SyntaxError) {
        if node.height > Self.maxHeight { throw GoRegexp.SyntaxError(.nestingDepth, whole) }
    }

    /// Pops the nodes above the nearest `(` or `|` marker, oldest first.
    private mutating func popPieces() -> [Node] {
        let start = (stack.lastIndex { $0.node == nil }).map { $0 + 1 } ?? 0
        let pieces = stack[start...].map { $0.node! }
        stack.removeSubrange(start...)
        return pieces
    }

    /// Replaces the pieces above the nearest marker with their concatenation.
    private mutating func concat() throws(GoRegexp.SyntaxError) {
        let pieces = popPieces()
        var flat: [Node] = []
        for piece in pieces {
            if case .concat(let subs) = piece.kind { flat += subs } else { flat.append(piece) }
        }
        switch flat.count {
        case 0: try push(.emptyMatch)
        case 1: try push(flat[0])
        default: try push(.concat(flat))
        }
    }

    /// Replaces the alternatives above the nearest `(` with their alternation. Like Go's factoring,
    /// alternatives that are single characters or classes merge into one class and empty ones into
    /// one, which keeps `(|||...)` and `a|b|c|...` small once compiled; unlike Go, they merge even when
    /// not adjacent, since order cannot change a yes/no answer.
    private mutating func alternate() throws(GoRegexp.SyntaxError) {
        var flat: [Node] = []
        for piece in popPieces() {
            if case .alternate(let subs) = piece.kind { flat += subs } else { flat.append(piece) }
        }
        let classes = flat.map(\.asCharacterClass)
        let mergeClasses = classes.count { $0 != nil } > 1
        var out: [Node] = []
        var mergedIndex: Int? = nil
        var merged = CharacterClass.Builder()
        var sawEmpty = false
        for (node, cls) in zip(flat, classes) {
            if mergeClasses, let cls {
                if mergedIndex == nil {
                    mergedIndex = out.count
                    out.append(node)
                }
                merged.add(cls)
                continue
            }
            if case .emptyMatch = node.kind {
                if sawEmpty { continue }
                sawEmpty = true
            }
            out.append(node)
        }
        if let mergedIndex { out[mergedIndex] = Node(.characterClass(merged.build())) }
        switch out.count {
        case 0: try push(.noMatch)
        case 1: try push(out[0])
        default: try push(.alternate(out))
        }
    }

    private mutating func parseVerticalBar() throws(GoRegexp.SyntaxError) {
        try concat()
        if !swapVerticalBar() { stack.append(.verticalBar) }
    }

    /// When the finished alternative sits just above a `|` marker, moves it below, so alternatives
    /// collect under the marker. Reports whether there was a marker.
    private mutating func swapVerticalBar() -> Bool {
        let n = stack.count
        guard n >= 2, case .verticalBar = stack[n - 2] else { return false }
        stack.swapAt(n - 1, n - 2)
        return true
    }

    private mutating func parseRightParen() throws(GoRegexp.SyntaxError) {
        try concat()
        if swapVerticalBar() { stack.removeLast() }
        try alternate()
        let n = stack.count
        guard n >= 2, let inner = stack[n - 1].node, case .leftParen(let saved, let capturing) = stack[n - 2] else {
            throw GoRegexp.SyntaxError(.unexpectedParen, whole)
        }
        stack.removeLast(2)
        flags = saved
        try push(capturing ? Node(.capture(inner)) : inner)
    }

    // MARK: Repetition

    /// Applies `*`, `+`, `?` or `{n,m}` (which spans `start..<after`) to the piece on top of the stack,
    /// and returns where parsing continues.
    private mutating func applyRepeat(_ kind: RepeatKind, min: Int, max: Int, at start: Int, after: Int, lastRepeat: Int?)
        throws(GoRegexp.SyntaxError) -> Int
    {
        var after = after
        // A trailing `?` makes the operator non-greedy, which cannot change whether a match exists.
        if after < s.count && s[after] == "?" { after += 1 }
        if let lastRepeat { throw error(.invalidRepeatOp, lastRepeat..<after) }
        guard let sub = stack.last?.node else { throw error(.missingRepeatArgument, start..<after) }
        let node: Node
        switch kind {
        case .star: node = Node(.star(sub))
        case .plus: node = Node(.plus(sub))
        case .quest: node = Node(.quest(sub))
        case .counted: node = Node(.repetition(sub, min: min, max: max))
        }
        try checkHeight(node)
        stack[stack.count - 1] = .node(node)
        if kind == .counted && (min >= 2 || max >= 2) && !Self.repeatIsValid(node, Self.maxRepeat) {
            throw error(.invalidRepeatSize, start..<after)
        }
        return after
    }

    /// Go's rule that nested counted repetitions may not multiply past `limit` copies of anything
    /// (each count divides what is left for the counts inside it). Walked with a work list, since the
    /// tree may be 1000 levels deep.
    private static func repeatIsValid(_ node: Node, _ limit: Int) -> Bool {
        var pending = [(node, limit)]
        while let (node, limit) = pending.popLast() {
            var limit = limit
            if case .repetition(_, let min, let max) = node.kind {
                if max == 0 { continue }
                let count = max < 0 ? min : max
                if count > limit { return false }
                if count > 0 { limit /= count }
            }
            for child in node.children { pending.append((child, limit)) }
        }
        return true
    }

    /// `{n}`, `{n,}` or `{n,m}` at `i`: (min, max, index after `}`), max -1 for open-ended and min -1 for
    /// numbers too large; nil when the text is not of that form.
    private func parseRepeatBraces(at i: Int) -> (Int, Int, Int)? {
        guard let (min, afterMin) = parseInt(at: i + 1) else { return nil }
        var j = afterMin
        guard j < s.count else { return nil }
        var lower = min, upper = min
        if s[j] == "," {
            j += 1
            guard j < s.count else { return nil }
            if s[j] == "}" {
                upper = -1
            } else {
                guard let (max, afterMax) = parseInt(at: j) else { return nil }
                j = afterMax
                upper = max
                if max < 0 { lower = -1 }
            }
        }
        guard j < s.count, s[j] == "}" else { return nil }
        return (lower, upper, j + 1)
    }

    /// A decimal number without leading zeros at `i`, -1 when it reaches 10^8; nil when there is none.
    private func parseInt(at i: Int) -> (Int, Int)? {
        guard i < s.count, isDigit(s[i]) else { return nil }
        if s[i] == "0" && i + 1 < s.count && isDigit(s[i + 1]) { return nil }
        var j = i
        var value = 0
        while j < s.count && isDigit(s[j]) {
            if value >= 0 { value = value >= 100_000_000 ? -1 : value * 10 + Int(s[j].value - 0x30) }
            j += 1
        }
        return (value, j)
    }

    // MARK: Groups and flags

    /// `(?i)`, `(?i:...)`, `(?:...)`, `(?P<name>...)` or `(?<name>...)` at `i`.
    private mutating func parseGroupFlags(at i: Int) throws(GoRegexp.SyntaxError) -> Int {
        let rest = s.count - i
        let pythonName = rest > 4 && s[i + 2] == "P" && s[i + 3] == "<"
        let perlName = rest > 3 && s[i + 2] == "<"
        if pythonName || perlName {
            let nameStart = i + (pythonName ? 4 : 3)
            guard let end = s[nameStart...].firstIndex(of: ">") else { throw error(.invalidNamedCapture, i..<s.count) }
            let name = s[nameStart..<end]
            if name.isEmpty || !name.allSatisfy({ $0 == "_" || isAlphanumeric($0) }) {
                throw error(.invalidNamedCapture, i..<end + 1)
            }
            stack.append(.leftParen(saved: flags, capturing: true))
            return end + 1
        }

        var j = i + 2
        var newFlags = flags
        var negating = false
        var sawFlag = false
        scan: while j < s.count {
            let c = s[j]
            j += 1
            switch c {
            case "i": newFlags.foldCase = !negating; sawFlag = true
            case "m": newFlags.multiLine = !negating; sawFlag = true
            case "s": newFlags.dotMatchesNewline = !negating; sawFlag = true
            case "U": newFlags.ungreedy = !negating; sawFlag = true
            case "-":
                if negating { break scan }
                negating = true
                sawFlag = false
            case ":", ")":
                // `(?i-)` negates nothing: Go refuses it.
                if negating && !sawFlag { break scan }
                if c == ":" { stack.append(.leftParen(saved: flags, capturing: false)) }
                flags = newFlags
                return j
            default:
                break scan
            }
        }
        throw error(.invalidPerlOp, i..<j)
    }

    // MARK: Escapes

    /// A backslash outside a class: an anchor, `\Q...\E`, a Unicode or Perl class, or a character.
    private mutating func parseBackslash(at i: Int) throws(GoRegexp.SyntaxError) -> Int {
        if i + 1 < s.count {
            switch s[i + 1] {
            case "A": try push(.assertion(.beginText)); return i + 2
            case "z": try push(.assertion(.endText)); return i + 2
            case "b": try push(.assertion(.wordBoundary)); return i + 2
            case "B": try push(.assertion(.noWordBoundary)); return i + 2
            case "C": throw error(.invalidEscape, i..<i + 2)  // any byte: Go does not support it
            case "Q":
                // Everything up to `\E` (or the end) is literal.
                var end = s.count, next = s.count
                var k = i + 2
                while k + 1 < s.count {
                    if s[k] == "\\" && s[k + 1] == "E" { end = k; next = k + 2; break }
                    k += 1
                }
                for scalar in s[(i + 2)..<end] { try literal(scalar) }
                return next
            default:
                break
            }
        }
        if let (cls, next) = try parseUnicodeClass(at: i) {
            try push(.characterClass(cls))
            return next
        }
        if let (cls, next) = perlClass(at: i) {
            try push(.characterClass(cls))
            return next
        }
        let (value, next) = try parseEscape(at: i)
        try push(.literal(value, foldCase: flags.foldCase))
        return next
    }

    /// A single-character escape at `i` (the backslash): its code point and where parsing continues.
    private func parseEscape(at i: Int) throws(GoRegexp.SyntaxError) -> (UInt32, Int) {
        var j = i + 1
        guard j < s.count else { throw GoRegexp.SyntaxError(.trailingBackslash, "") }
        let c = s[j]
        j += 1
        switch c {
        case "1"..."7" where j < s.count && isOctal(s[j]), "0":
            // Up to three octal digits; a lone nonzero digit would be a backreference, which Go refuses.
            var value = c.value - 0x30
            var digits = 1
            while digits < 3 && j < s.count && isOctal(s[j]) {
                value = value * 8 + (s[j].value - 0x30)
                j += 1
                digits += 1
            }
            return (value, j)
        case "x":
            guard j < s.count else { break }
            let first = s[j]
            j += 1
            if first == "{" {
                // Any number of hex digits, at least one, up to U+10FFFF.
                var value: UInt32 = 0
                var digits = 0
                while true {
                    guard j < s.count else { throw error(.invalidEscape, i..<j) }
                    let d = s[j]
                    j += 1
                    if d == "}" { break }
                    guard let v = hexValue(d) else { throw error(.invalidEscape, i..<j) }
                    value = value * 16 + v
                    if value > CharacterClass.maxCodePoint { throw error(.invalidEscape, i..<j) }
                    digits += 1
                }
                if digits == 0 { break }
                return (value, j)
            }
            guard j < s.count else { break }
            let second = s[j]
            j += 1
            guard let hi = hexValue(first), let lo = hexValue(second) else { break }
            return (hi * 16 + lo, j)
        case "a": return (0x07, j)
        case "f": return (0x0C, j)
        case "n": return (0x0A, j)
        case "r": return (0x0D, j)
        case "t": return (0x09, j)
        case "v": return (0x0B, j)
        default:
            // Escaped ASCII punctuation is itself; Go refuses escapes of letters, digits and non-ASCII.
            if c.isASCII && !isAlphanumeric(c) { return (c.value, j) }
        }
        throw error(.invalidEscape, i..<j)
    }

    /// `\pL`, `\p{Greek}`, `\PN`, `\p{^L}` at `i`, folded for (?i); nil when `i` holds no `\p` or `\P`.
    private func parseUnicodeClass(at i: Int) throws(GoRegexp.SyntaxError) -> (CharacterClass, Int)? {
        guard i + 1 < s.count, s[i] == "\\", s[i + 1] == "p" || s[i + 1] == "P" else { return nil }
        var negated = s[i + 1] == "P"
        let end: Int
        var name: String.UnicodeScalarView
        if i + 2 < s.count && s[i + 2] == "{" {
            guard let close = s[(i + 3)...].firstIndex(of: "}") else { throw error(.invalidCharRange, i..<s.count) }
            end = close + 1
            name = String.UnicodeScalarView(s[(i + 3)..<close])
        } else {
            // A one-letter name, or nothing at the very end.
            end = min(i + 3, s.count)
            name = String.UnicodeScalarView(s[(i + 2)..<end])
        }
        if name.first == "^" {
            negated.toggle()
            name.removeFirst()
        }
        guard let cls = UnicodeClasses.lookup(String(name)) else { throw error(.invalidCharRange, i..<end) }
        return (group(cls, negated: negated), end)
    }

    /// `\d \D \s \S \w \W` at `i`.
    private func perlClass(at i: Int) -> (CharacterClass, Int)? {
        guard i + 1 < s.count, s[i] == "\\", let (cls, negated) = NamedClasses.perl(s[i + 1]) else { return nil }
        return (group(cls, negated: negated), i + 2)
    }

    /// A named class as (?i) and negation shape it: fold first, then negate, as Go's appendGroup does.
    private func group(_ cls: CharacterClass, negated: Bool) -> CharacterClass {
        let folded = flags.foldCase ? CaseFolding.fold(cls) : cls
        return negated ? folded.inverted : folded
    }

    // MARK: Classes

    /// `[...]` at `i`; returns the index after its `]`.
    private mutating func parseClass(at i: Int) throws(GoRegexp.SyntaxError) -> Int {
        var j = i + 1
        var builder = CharacterClass.Builder()
        var negated = false
        if j < s.count && s[j] == "^" {
            negated = true
            j += 1
        }
        var first = true  // `]` first in the class is a literal
        while j >= s.count || s[j] != "]" || first {
            first = false
            if s.count - j > 2 && s[j] == "[" && s[j + 1] == ":", let (cls, next) = try parseNamedClass(at: j) {
                builder.add(cls)
                j = next
                continue
            }
            if let (cls, next) = try parseUnicodeClass(at: j) {
                builder.add(cls)
                j = next
                continue
            }
            if let (cls, next) = perlClass(at: j) {
                builder.add(cls)
                j = next
                continue
            }
            let rangeStart = j
            let (lo, afterLo) = try parseClassCharacter(at: j, classStart: i)
            j = afterLo
            var hi = lo
            // `-` right before the closing `]` is a literal dash.
            if s.count - j >= 2 && s[j] == "-" && s[j + 1] != "]" {
                (hi, j) = try parseClassCharacter(at: j + 1, classStart: i)
                if hi < lo { throw error(.invalidCharRange, rangeStart..<j) }
            }
            if flags.foldCase {
                builder.add(CaseFolding.fold(CharacterClass([lo...hi])))
            } else {
                builder.add(lo, hi)
            }
        }
        let cls = builder.build()
        try push(.characterClass(negated ? cls.inverted : cls))
        return j + 1
    }

    /// `[:alpha:]` or `[:^alpha:]` at `i`; nil when no `:]` follows (then `[` is an ordinary character).
    private func parseNamedClass(at i: Int) throws(GoRegexp.SyntaxError) -> (CharacterClass, Int)? {
        var k = i + 2
        while k + 1 < s.count && !(s[k] == ":" && s[k + 1] == "]") { k += 1 }
        guard k + 1 < s.count else { return nil }
        guard let (cls, negated) = NamedClasses.posix(text(i + 2..<k)) else { throw error(.invalidCharRange, i..<k + 2) }
        return (group(cls, negated: negated), k + 2)
    }

    private func parseClassCharacter(at j: Int, classStart: Int) throws(GoRegexp.SyntaxError) -> (UInt32, Int) {
        guard j < s.count else { throw error(.missingBracket, classStart..<s.count) }
        if s[j] == "\\" { return try parseEscape(at: j) }
        return (s[j].value, j + 1)
    }

    // MARK: Helpers

    private func text(_ range: Range<Int>) -> String {
        String(String.UnicodeScalarView(s[range]))
    }

    private func error(_ code: GoRegexp.ErrorCode, _ range: Range<Int>) -> GoRegexp.SyntaxError {
        GoRegexp.SyntaxError(code, text(range))
    }

    private func isDigit(_ c: Unicode.Scalar) -> Bool { c >= "0" && c <= "9" }
    private func isOctal(_ c: Unicode.Scalar) -> Bool { c >= "0" && c <= "7" }
    private func isAlphanumeric(_ c: Unicode.Scalar) -> Bool {
        isDigit(c) || (c >= "A" && c <= "Z") || (c >= "a" && c <= "z")
    }

    private func hexValue(_ c: Unicode.Scalar) -> UInt32? {
        switch c {
        case "0"..."9": c.value - 0x30
        case "a"..."f": c.value - 0x61 + 10
        case "A"..."F": c.value - 0x41 + 10
        default: nil
        }
    }
}
