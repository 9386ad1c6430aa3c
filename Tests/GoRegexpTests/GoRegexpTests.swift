import GoRegexp
import Testing

/// One pattern against one text, with Go's regexp.MatchString answer.
struct MatchCase: Sendable, CustomTestStringConvertible {
    let pattern: String
    let text: String
    let matches: Bool
    init(_ pattern: String, _ text: String, _ matches: Bool) {
        self.pattern = pattern
        self.text = text
        self.matches = matches
    }
    var testDescription: String { "\(pattern.debugDescription) ~ \(text.debugDescription) → \(matches)" }
}

// Expected answers are Go's (checked against Go's regexp package).
let matchTable: [MatchCase] = [
    // Literals, unanchored search, dot.
    MatchCase("abc", "xxabcxx", true),
    MatchCase("abc", "ab", false),
    MatchCase("", "", true),
    MatchCase("", "anything", true),
    MatchCase("a.c", "abc", true),
    MatchCase("a.c", "a\nc", false),
    MatchCase("(?s)a.c", "a\nc", true),
    MatchCase("a.c", "a☺c", true),
    MatchCase("é", "café", true),
    // Anchors: `$` is end of text only (not before a final newline) unless (?m).
    MatchCase("^abc$", "abc", true),
    MatchCase("^abc$", "abc\n", false),
    MatchCase("^abc", "xabc", false),
    MatchCase("(?m)^b$", "a\nb\nc", true),
    MatchCase("^b$", "a\nb\nc", false),
    MatchCase("(?m)a$", "a\n", true),
    MatchCase("\\Aab\\z", "ab", true),
    MatchCase("(?m)\\Ab", "a\nb", false),
    MatchCase("a\\z", "a\n", false),
    MatchCase("^$", "", true),
    MatchCase("(?m)^$", "a\n", true),
    MatchCase("\\bfoo\\b", "a foo b", true),
    MatchCase("\\bfoo\\b", "afoo", false),
    MatchCase("\\Boo\\B", "foob", true),
    MatchCase("\\bé", "é", false),  // \b knows ASCII word characters only
    // Classes.
    MatchCase("^[a-c]+$", "abcabc", true),
    MatchCase("^[a-c]+$", "abcd", false),
    MatchCase("^[^a-c]+$", "xyz\n", true),  // negated classes match newline
    MatchCase("[]a]", "]", true),
    MatchCase("[^]a]", "]", false),
    MatchCase("^[a-]+$", "a-a", true),
    MatchCase("^[\\d\\-x]+$", "1-x", true),
    MatchCase("[\\[\\]]", "]", true),
    MatchCase("[[:alpha:]]", "1a", true),
    MatchCase("^[[:alpha:]]+$", "ab1", false),
    MatchCase("^[[:^digit:]]+$", "ab", true),
    MatchCase("^[[:xdigit:]]+$", "09afAF", true),
    MatchCase("[[:space:]]", "\u{0B}", true),
    MatchCase("\\s", "\u{0B}", false),  // Perl \s leaves out \v
    MatchCase("^[[:word:]]+$", "a_1", true),
    MatchCase("[:alpha:]", "p", true),  // outside brackets it is a plain class of : a l p h
    MatchCase("^\\d+$", "0123456789", true),
    MatchCase("^\\d+$", "١٢٣", false),  // \d is ASCII only
    MatchCase("^\\D$", "x", true),
    MatchCase("^\\w+$", "abc_XYZ_09", true),
    MatchCase("\\w", "é", false),
    MatchCase("^\\W$", "é", true),
    MatchCase("^\\S+$", "ab", true),
    MatchCase("[\\s\\S]", "\n", true),
    // Unicode classes.
    MatchCase("^\\pL+$", "héllo世界", true),
    MatchCase("^\\pL+$", "abc1", false),
    MatchCase("^\\p{Lu}+$", "ÀB", true),
    MatchCase("^\\p{Lu}+$", "Ab", false),
    MatchCase("^\\p{Ll}$", "ß", true),
    MatchCase("^\\p{Lt}$", "ǅ", true),
    MatchCase("^\\p{Lm}$", "ʰ", true),
    MatchCase("^\\p{Lo}$", "中", true),
    MatchCase("^\\pM$", "\u{0301}", true),
    MatchCase("^\\pN+$", "12Ⅻ½", true),
    MatchCase("^\\p{Nd}+$", "٣3", true),
    MatchCase("^\\p{Nl}$", "Ⅻ", true),
    MatchCase("^\\p{No}$", "½", true),
    MatchCase("^\\pP+$", "!?,", true),
    MatchCase("^\\pS+$", "$+^", true),
    MatchCase("^\\pZ$", "\u{00A0}", true),
    MatchCase("^\\pC$", "\u{0007}", true),
    MatchCase("^\\pC$", "\u{0378}", false),  // Go's C has no unassigned code points
    MatchCase("^\\PL+$", "123", true),
    MatchCase("^\\PN$", "a", true),
    MatchCase("^\\p{^L}$", "1", true),
    MatchCase("^\\P{^L}$", "a", true),
    MatchCase("^[\\p{Greek}\\d]+$", "αβ1", true),
    MatchCase("^\\p{Greek}+$", "αβγ", true),
    MatchCase("^\\p{Greek}+$", "abc", false),
    MatchCase("^\\p{Latin}+$", "abcé", true),
    MatchCase("^\\p{Cyrillic}+$", "Привет", true),
    MatchCase("^\\p{Han}+$", "世界", true),
    MatchCase("^\\p{Han}+$", "せかい", false),
    MatchCase("^\\p{Hiragana}+$", "せかい", true),
    MatchCase("^\\p{Any}$", "\u{10FFFF}", true),
    MatchCase("^[^\\p{L}\\p{N}]+$", "-!", true),
    // Groups, alternation, flags.
    MatchCase("^(ab|cd)+$", "abcdab", true),
    MatchCase("^(ab|cd)+$", "abc", false),
    MatchCase("^(?:a|b)c$", "bc", true),
    MatchCase("^(?P<year>\\d{4})-(?<month>\\d\\d)$", "2024-05", true),
    MatchCase("^(|a)b$", "b", true),
    MatchCase("a|b|c", "xcx", true),
    MatchCase("(?i)hello", "HeLLo", true),
    MatchCase("(?i)k", "\u{212A}", true),  // Kelvin sign folds to k
    MatchCase("(?i)s", "ſ", true),  // long s folds to s
    MatchCase("(?i)σ", "ς", true),
    MatchCase("(?i)σ", "Σ", true),
    MatchCase("(?i)ǅ", "ǆ", true),
    MatchCase("(?i)i", "ı", false),  // no Turkish folding
    MatchCase("(?i)[a-z]+", "ABC", true),
    MatchCase("(?i)[^k]", "K", false),
    MatchCase("(?i)\\W", "\u{212A}", false),
    MatchCase("(?i)\\p{Lu}", "a", true),
    MatchCase("(?i)[[:upper:]]", "a", true),
    MatchCase("a(?i)b", "aB", true),
    MatchCase("a(?i)b", "AB", false),
    MatchCase("(?i:a)b", "Ab", true),
    MatchCase("(?i:a)b", "AB", false),
    MatchCase("(?i)a(?-i)b", "Ab", true),
    MatchCase("(?i)a(?-i)b", "AB", false),
    MatchCase("(a(?i)b)c", "aBc", true),
    MatchCase("(a(?i)b)c", "aBC", false),  // flags end with their group
    MatchCase("x(?i)y|z", "Z", true),  // ... but carry across |
    MatchCase("(?s:.)", "\n", true),
    MatchCase("(?m:^b)", "a\nb", true),
    MatchCase("(?U)a+", "aaa", true),
    MatchCase("(?i-s:a.)", "A\n", false),
    // Repetition.
    MatchCase("^a*$", "", true),
    MatchCase("^a+$", "", false),
    MatchCase("^ab?c$", "ac", true),
    MatchCase("^a{3}$", "aaa", true),
    MatchCase("^a{3}$", "aaaa", false),
    MatchCase("^a{2,}$", "aaaaa", true),
    MatchCase("^a{2,}$", "a", false),
    MatchCase("^a{2,4}$", "aaaa", true),
    MatchCase("^a{2,4}$", "aaaaa", false),
    MatchCase("^a{0}b$", "b", true),
    MatchCase("^(ab){2}$", "abab", true),
    MatchCase("^a*?b$", "aab", true),
    MatchCase("^a+?$", "aa", true),
    MatchCase("^a??$", "", true),
    MatchCase("^a{2,3}?$", "aaa", true),
    MatchCase("^(a*)*$", "aaa", true),
    MatchCase("^(a*)+b$", "aab", true),
    MatchCase("^(?:a|)*$", "aa", true),
    // `{` that does not form a repeat is a literal.
    MatchCase("a{", "a{", true),
    MatchCase("^a{,2}$", "a{,2}", true),
    MatchCase("^x{2,1$", "x{2,1", true),
    MatchCase("^a{01}$", "a{01}", true),
    MatchCase("^{$", "{", true),
    MatchCase("^}$", "}", true),
    MatchCase("^a*{$", "aa{", true),
    // Escapes.
    MatchCase("\\n", "a\nb", true),
    MatchCase("^\\t\\r\\f\\v\\a$", "\t\r\u{0C}\u{0B}\u{07}", true),
    MatchCase("^\\x41$", "A", true),
    MatchCase("^\\x{263a}$", "☺", true),
    MatchCase("^\\x{1F600}$", "😀", true),
    MatchCase("^\\0$", "\u{0}", true),
    MatchCase("^\\101$", "A", true),
    MatchCase("^\\012$", "\n", true),
    MatchCase("^\\08$", "\u{0}8", true),
    MatchCase("^\\.\\*\\+\\?\\(\\)\\[\\]\\{\\}\\|\\^\\$\\\\$", ".*+?()[]{}|^$\\", true),
    MatchCase("^\\_\\-\\ $", "_- ", true),
    MatchCase("^\\Qa.b*c\\E$", "a.b*c", true),
    MatchCase("^\\Qa.b*c\\E$", "axbbc", false),
    MatchCase("^\\Qab\\E+$", "abbb", true),
    MatchCase("^x\\Q(y$", "x(y$", true),  // \Q without \E runs to the end
    MatchCase("^[\\x41-\\x{5A}]+$", "AZ", true),
    MatchCase("^[\\n]$", "\n", true),
    // Patterns of the kind CRDs use.
    MatchCase("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$", "my-app.example.com", true),
    MatchCase("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$", "My-App", false),
    MatchCase("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", String(repeating: "a", count: 63), true),
    MatchCase("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", String(repeating: "a", count: 64), false),
    MatchCase("^(\\d{1,3}\\.){3}\\d{1,3}$", "10.96.0.10", true),
    MatchCase("^(\\d{1,3}\\.){3}\\d{1,3}$", "10.96.0", false),
    MatchCase("^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$", "1h30m", true),
    MatchCase("^v[0-9]+((alpha|beta)[0-9]+)?$", "v1beta2", true),
    MatchCase("^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$", "128Mi", true),
    MatchCase("^https?://", "ftp://x", false),
]

@Test(arguments: matchTable)
func matchesAsGoDoes(_ c: MatchCase) throws {
    let re = try GoRegexp(c.pattern)
    #expect(re.matches(c.text) == c.matches)
    #expect(re.pattern == c.pattern)
}

/// A malformed pattern and the exact error Go's regexp.Compile returns for it.
struct ErrorCase: Sendable, CustomTestStringConvertible {
    let pattern: String
    let message: String
    init(_ pattern: String, _ message: String) {
        self.pattern = pattern
        self.message = message
    }
    var testDescription: String { pattern.debugDescription }
}

let errorTable: [ErrorCase] = [
    ErrorCase("[a", "error parsing regexp: missing closing ]: `[a`"),
    ErrorCase("([a-z)", "error parsing regexp: missing closing ]: `[a-z)`"),
    ErrorCase("[]", "error parsing regexp: missing closing ]: `[]`"),
    ErrorCase("a[^", "error parsing regexp: missing closing ]: `[^`"),
    ErrorCase("(", "error parsing regexp: missing closing ): `(`"),
    ErrorCase("(a|b", "error parsing regexp: missing closing ): `(a|b`"),
    ErrorCase("x(?:a", "error parsing regexp: missing closing ): `x(?:a`"),
    ErrorCase(")", "error parsing regexp: unexpected ): `)`"),
    ErrorCase("(a))", "error parsing regexp: unexpected ): `(a))`"),
    ErrorCase("a|b)", "error parsing regexp: unexpected ): `a|b)`"),
    ErrorCase("a**", "error parsing regexp: invalid nested repetition operator: `**`"),
    ErrorCase("a*+", "error parsing regexp: invalid nested repetition operator: `*+`"),
    ErrorCase("a??+", "error parsing regexp: invalid nested repetition operator: `??+`"),
    ErrorCase("a{2}{3}", "error parsing regexp: invalid nested repetition operator: `{2}{3}`"),
    ErrorCase("a*?*", "error parsing regexp: invalid nested repetition operator: `*?*`"),
    ErrorCase("*", "error parsing regexp: missing argument to repetition operator: `*`"),
    ErrorCase("+a", "error parsing regexp: missing argument to repetition operator: `+`"),
    ErrorCase("??", "error parsing regexp: missing argument to repetition operator: `??`"),
    ErrorCase("{1}", "error parsing regexp: missing argument to repetition operator: `{1}`"),
    ErrorCase("(*)", "error parsing regexp: missing argument to repetition operator: `*`"),
    ErrorCase("a|*", "error parsing regexp: missing argument to repetition operator: `*`"),
    ErrorCase("\\Q\\E*", "error parsing regexp: missing argument to repetition operator: `*`"),
    ErrorCase("\\q", "error parsing regexp: invalid escape sequence: `\\q`"),
    ErrorCase("\\Z", "error parsing regexp: invalid escape sequence: `\\Z`"),
    ErrorCase("\\C", "error parsing regexp: invalid escape sequence: `\\C`"),
    ErrorCase("\\1", "error parsing regexp: invalid escape sequence: `\\1`"),
    ErrorCase("\\8", "error parsing regexp: invalid escape sequence: `\\8`"),
    ErrorCase("\\é", "error parsing regexp: invalid escape sequence: `\\é`"),
    ErrorCase("\\x", "error parsing regexp: invalid escape sequence: `\\x`"),
    ErrorCase("\\xG0", "error parsing regexp: invalid escape sequence: `\\xG0`"),
    ErrorCase("\\x{12", "error parsing regexp: invalid escape sequence: `\\x{12`"),
    ErrorCase("\\x{}", "error parsing regexp: invalid escape sequence: `\\x{}`"),
    ErrorCase("\\x{110000}", "error parsing regexp: invalid escape sequence: `\\x{110000`"),
    ErrorCase("[\\b]", "error parsing regexp: invalid escape sequence: `\\b`"),
    ErrorCase("[a-\\d]", "error parsing regexp: invalid escape sequence: `\\d`"),
    ErrorCase("[z-a]", "error parsing regexp: invalid character class range: `z-a`"),
    ErrorCase("[[:foo:]]", "error parsing regexp: invalid character class range: `[:foo:]`"),
    ErrorCase("\\p{Foo}", "error parsing regexp: invalid character class range: `\\p{Foo}`"),
    ErrorCase("[\\p{Foo}]", "error parsing regexp: invalid character class range: `\\p{Foo}`"),
    ErrorCase("\\pX", "error parsing regexp: invalid character class range: `\\pX`"),
    ErrorCase("\\p{}", "error parsing regexp: invalid character class range: `\\p{}`"),
    ErrorCase("\\p{L", "error parsing regexp: invalid character class range: `\\p{L`"),
    ErrorCase("\\p", "error parsing regexp: invalid character class range: `\\p`"),
    ErrorCase("x{1001}", "error parsing regexp: invalid repeat count: `{1001}`"),
    ErrorCase("x{2,1}", "error parsing regexp: invalid repeat count: `{2,1}`"),
    ErrorCase("x{9876543210}", "error parsing regexp: invalid repeat count: `{9876543210}`"),
    ErrorCase("x{1,9876543210}", "error parsing regexp: invalid repeat count: `{1,9876543210}`"),
    ErrorCase("a{100000,}", "error parsing regexp: invalid repeat count: `{100000,}`"),
    ErrorCase("(a{1000}){1000}", "error parsing regexp: invalid repeat count: `{1000}`"),
    ErrorCase("(?:[a-z]{4}){0,251}", "error parsing regexp: invalid repeat count: `{0,251}`"),
    ErrorCase("((((((((((x{2}){2}){2}){2}){2}){2}){2}){2}){2}){2})", "error parsing regexp: invalid repeat count: `{2}`"),
    ErrorCase("(?z)", "error parsing regexp: invalid or unsupported Perl syntax: `(?z`"),
    ErrorCase("(?!a)", "error parsing regexp: invalid or unsupported Perl syntax: `(?!`"),
    ErrorCase("(?i-)", "error parsing regexp: invalid or unsupported Perl syntax: `(?i-)`"),
    ErrorCase("(?", "error parsing regexp: invalid or unsupported Perl syntax: `(?`"),
    ErrorCase("(?P=x)", "error parsing regexp: invalid or unsupported Perl syntax: `(?P`"),
    ErrorCase("(?P<name", "error parsing regexp: invalid named capture: `(?P<name`"),
    ErrorCase("(?P<x y>a)", "error parsing regexp: invalid named capture: `(?P<x y>`"),
    ErrorCase("(?P<>a)", "error parsing regexp: invalid named capture: `(?P<>`"),
    ErrorCase("(?<a-b>x)", "error parsing regexp: invalid named capture: `(?<a-b>`"),
    ErrorCase("\\", "error parsing regexp: trailing backslash at end of expression: ``"),
    ErrorCase("ab\\", "error parsing regexp: trailing backslash at end of expression: ``"),
    ErrorCase(String(repeating: "(", count: 1000) + String(repeating: ")", count: 1000),
              "error parsing regexp: expression nests too deeply: `\(String(repeating: "(", count: 1000) + String(repeating: ")", count: 1000))`"),
]

@Test(arguments: errorTable)
func refusesAsGoDoes(_ c: ErrorCase) {
    #expect(throws: GoRegexp.SyntaxError.self) { try GoRegexp(c.pattern) }
    do {
        _ = try GoRegexp(c.pattern)
    } catch {
        #expect(error.description == c.message)
    }
}

@Test func limitsMatchGoAtTheirEdges() throws {
    // Go accepts nesting to depth 1000 and nested counts whose product is 1000.
    _ = try GoRegexp(String(repeating: "(", count: 999) + String(repeating: ")", count: 999))
    let stars = try GoRegexp(String(repeating: "(?:", count: 999) + "a" + String(repeating: ")*", count: 999))
    #expect(stars.matches("aaa"))
    _ = try GoRegexp("(?:[a-z]{4}){0,250}")
    _ = try GoRegexp("((((((((((x{2}){2}){2}){2}){2}){2}){2}){2}){2}))")
    let alternatives = try GoRegexp("^(" + String(repeating: "|", count: 12345) + ")$")
    #expect(alternatives.matches(""))
}

@Test func refusesProgramsTooLargeToMatchCheaply() {
    let many = (0..<11).map { "\(Character(Unicode.Scalar(0x61 + $0)!)){1000}" }.joined()
    for pattern in [many, String(repeating: "(xx?){1000}", count: 1000), String(repeating: "\\pL", count: 27000)] {
        do {
            _ = try GoRegexp(pattern)
            Issue.record("\(pattern.prefix(40))... compiled")
        } catch {
            #expect(error.description == "error parsing regexp: expression too large: `\(pattern)`")
        }
    }
}

@Test func pathologicalPatternsRunInLinearTime() throws {
    // Each of these takes exponential time in a backtracking engine on this input.
    let input = String(repeating: "a", count: 30_000) + "!"
    for pattern in ["(a+)+$", "(a|a)*b", "(a|aa)+$", "(?:a*)*b", "^(a?){30}a{30}$", "(.*a){25}$"] {
        #expect(try !GoRegexp(pattern).matches(input), "\(pattern)")
    }
    #expect(try GoRegexp("(a+)+!$").matches(input))
    #expect(try GoRegexp("(x+x+)+y").matches(String(repeating: "x", count: 30_000)) == false)
}

@Test func isSendableAndReusable() async throws {
    let re = try GoRegexp("^[a-z]+$")
    let results = await withTaskGroup(of: Bool.self) { group in
        for text in ["abc", "ABC", "xyz", "x1"] { group.addTask { re.matches(text) } }
        return await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
    }
    #expect(results == 2)
}
