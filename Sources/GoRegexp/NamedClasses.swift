/// The ASCII-only named classes of Go's syntax: Perl escapes (`\d \s \w`, Go's perl_groups.go)
/// and POSIX brackets (`[:alpha:]`). Go keeps both ASCII even when matching Unicode text.
enum NamedClasses {
    /// `\d`, `\D`, `\s`, ... keyed by the escape letter; the uppercase letter is the negation.
    static func perl(_ letter: Unicode.Scalar) -> (CharacterClass, negated: Bool)? {
        switch letter {
        case "d": return (digit, false)
        case "D": return (digit, true)
        case "s": return (perlSpace, false)
        case "S": return (perlSpace, true)
        case "w": return (word, false)
        case "W": return (word, true)
        default: return nil
        }
    }

    /// `[:alpha:]` or `[:^alpha:]`, given the text between the brackets' colons.
    static func posix(_ name: String) -> (CharacterClass, negated: Bool)? {
        let negated = name.hasPrefix("^")
        let bare = negated ? String(name.dropFirst()) : name
        guard let cls = posixClasses[bare] else { return nil }
        return (cls, negated)
    }

    static let digit = CharacterClass([0x30...0x39])
    // Perl's \s is not POSIX's [:space:]: it leaves out \v.
    static let perlSpace = CharacterClass([0x09...0x0A, 0x0C...0x0D, 0x20...0x20])
    static let word = CharacterClass([0x30...0x39, 0x41...0x5A, 0x5F...0x5F, 0x61...0x7A])

    private static let posixClasses: [String: CharacterClass] = [
        "alnum": CharacterClass([0x30...0x39, 0x41...0x5A, 0x61...0x7A]),
        "alpha": CharacterClass([0x41...0x5A, 0x61...0x7A]),
        "ascii": CharacterClass([0x00...0x7F]),
        "blank": CharacterClass([0x09...0x09, 0x20...0x20]),
        "cntrl": CharacterClass([0x00...0x1F, 0x7F...0x7F]),
        "digit": digit,
        "graph": CharacterClass([0x21...0x7E]),
        "lower": CharacterClass([0x61...0x7A]),
        "print": CharacterClass([0x20...0x7E]),
        "punct": CharacterClass([0x21...0x2F, 0x3A...0x40, 0x5B...0x60, 0x7B...0x7E]),
        "space": CharacterClass([0x09...0x0D, 0x20...0x20]),
        "upper": CharacterClass([0x41...0x5A]),
        "word": word,
        "xdigit": CharacterClass([0x30...0x39, 0x41...0x46, 0x61...0x66]),
    ]

    /// Whether `\b` sees a word character: ASCII letters, digits and underscore only, as in Go.
    static func isWordCharacter(_ value: UInt32) -> Bool {
        (value >= 0x30 && value <= 0x39) || (value >= 0x41 && value <= 0x5A) || value == 0x5F || (value >= 0x61 && value <= 0x7A)
    }
}
