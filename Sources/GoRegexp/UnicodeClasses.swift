/// The classes `\pL`, `\p{Greek}`, `\p{Lowercase_Letter}` name: Unicode general categories (from the
/// standard library's properties), scripts (from `ScriptTable`), and Go's extras Any, Assigned and ASCII.
/// Names are matched as Go's canonicalName does: case-insensitively after the first letter, ignoring
/// underscores, hyphens and spaces.
enum UnicodeClasses {
    /// The class `name` denotes, or nil when Go would report "invalid character class range".
    static func lookup(_ name: String) -> CharacterClass? {
        let name = canonicalName(name)
        switch name {
        case "Any": return .all
        case "Assigned": return categories["Cn"]!.inverted
        case "Ascii": return CharacterClass([0...0x7F])
        default: break
        }
        if let cls = categories[name] { return cls }
        if let cls = scripts[name] { return cls }
        if let alias = categoryAliases[name] { return categories[alias] }
        return nil
    }

    /// First letter upper, the rest lower, separators dropped: "upper case-let ter" → "Uppercaseletter".
    static func canonicalName(_ name: String) -> String {
        var out = String.UnicodeScalarView()
        var first = true
        for scalar in name.unicodeScalars {
            switch scalar {
            case "_", "-", " ":
                continue
            case "a"..."z" where first:
                out.append(Unicode.Scalar(scalar.value - 0x20)!)
            case "A"..."Z" where !first:
                out.append(Unicode.Scalar(scalar.value + 0x20)!)
            default:
                out.append(scalar)
            }
            first = false
        }
        return String(out)
    }

    /// Long names for categories (Unicode's PropertyValueAliases, as Go's unicode.CategoryAliases),
    /// keyed by canonical name.
    private static let categoryAliases: [String: String] = {
        let pairs: [(String, String)] = [
            ("Cased_Letter", "Lc"), ("Close_Punctuation", "Pe"), ("Combining_Mark", "M"),
            ("Connector_Punctuation", "Pc"), ("Control", "Cc"), ("Currency_Symbol", "Sc"),
            ("Dash_Punctuation", "Pd"), ("Decimal_Number", "Nd"), ("Enclosing_Mark", "Me"),
            ("Final_Punctuation", "Pf"), ("Format", "Cf"), ("Initial_Punctuation", "Pi"), ("Letter", "L"),
            ("Letter_Number", "Nl"), ("Line_Separator", "Zl"), ("Lowercase_Letter", "Ll"), ("Mark", "M"),
            ("Math_Symbol", "Sm"), ("Modifier_Letter", "Lm"), ("Modifier_Symbol", "Sk"),
            ("Nonspacing_Mark", "Mn"), ("Number", "N"), ("Open_Punctuation", "Ps"), ("Other", "C"),
            ("Other_Letter", "Lo"), ("Other_Number", "No"), ("Other_Punctuation", "Po"), ("Other_Symbol", "So"),
            ("Paragraph_Separator", "Zp"), ("Private_Use", "Co"), ("Punctuation", "P"), ("Separator", "Z"),
            ("Space_Separator", "Zs"), ("Spacing_Mark", "Mc"), ("Surrogate", "Cs"), ("Symbol", "S"),
            ("Titlecase_Letter", "Lt"), ("Unassigned", "Cn"), ("Uppercase_Letter", "Lu"), ("cntrl", "Cc"),
            ("digit", "Nd"), ("punct", "P"),
        ]
        return Dictionary(uniqueKeysWithValues: pairs.map { (canonicalName($0.0), $0.1) })
    }()

    /// Two-letter categories and their one-letter unions, keyed by canonical name ("Lu", "L", "Lc").
    /// Built once by a single pass over the code space, run by run.
    private static let categories: [String: CharacterClass] = {
        let names = ["Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd", "Nl", "No", "Pc", "Pd", "Ps", "Pe", "Pi",
                     "Pf", "Po", "Sm", "Sc", "Sk", "So", "Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Co", "Cn"]
        var builders = Array(repeating: CharacterClass.Builder(), count: names.count)
        let surrogate = names.firstIndex(of: "Cs")!
        var runStart: UInt32 = 0
        var runCategory = -1
        for value in UInt32(0)...CharacterClass.maxCodePoint {
            // Surrogates are code points but not scalars; the standard library cannot describe them.
            let category = Unicode.Scalar(value).map { index(of: $0.properties.generalCategory) } ?? surrogate
            if category != runCategory {
                if runCategory >= 0 { builders[runCategory].add(runStart, value - 1) }
                runStart = value
                runCategory = category
            }
        }
        builders[runCategory].add(runStart, CharacterClass.maxCodePoint)

        var table: [String: CharacterClass] = [:]
        for (i, name) in names.enumerated() { table[name] = builders[i].build() }
        func union(_ parts: [String]) -> CharacterClass {
            var builder = CharacterClass.Builder()
            for part in parts { builder.add(table[part]!) }
            return builder.build()
        }
        table["L"] = union(["Lu", "Ll", "Lt", "Lm", "Lo"])
        table["Lc"] = union(["Lu", "Ll", "Lt"])
        table["M"] = union(["Mn", "Mc", "Me"])
        table["N"] = union(["Nd", "Nl", "No"])
        table["P"] = union(["Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po"])
        table["S"] = union(["Sm", "Sc", "Sk", "So"])
        table["Z"] = union(["Zs", "Zl", "Zp"])
        // Go's C has never included unassigned code points.
        table["C"] = union(["Cc", "Cf", "Cs", "Co"])
        return table
    }()

    /// Position of a category in the `categories` name list.
    private static func index(of category: Unicode.GeneralCategory) -> Int {
        switch category {
        case .uppercaseLetter: 0
        case .lowercaseLetter: 1
        case .titlecaseLetter: 2
        case .modifierLetter: 3
        case .otherLetter: 4
        case .nonspacingMark: 5
        case .spacingMark: 6
        case .enclosingMark: 7
        case .decimalNumber: 8
        case .letterNumber: 9
        case .otherNumber: 10
        case .connectorPunctuation: 11
        case .dashPunctuation: 12
        case .openPunctuation: 13
        case .closePunctuation: 14
        case .initialPunctuation: 15
        case .finalPunctuation: 16
        case .otherPunctuation: 17
        case .mathSymbol: 18
        case .currencySymbol: 19
        case .modifierSymbol: 20
        case .otherSymbol: 21
        case .spaceSeparator: 22
        case .lineSeparator: 23
        case .paragraphSeparator: 24
        case .control: 25
        case .format: 26
        case .surrogate: 27
        case .privateUse: 28
        case .unassigned: 29
        @unknown default: 29
        }
    }

    /// Scripts keyed by canonical name, parsed once from `ScriptTable.text`.
    private static let scripts: [String: CharacterClass] = {
        var table: [String: CharacterClass] = [:]
        for line in ScriptTable.text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard let name = fields.first, !name.hasPrefix("#") else { continue }
            var builder = CharacterClass.Builder()
            for field in fields.dropFirst() {
                let ends = field.split(separator: "-")
                let lo = UInt32(ends[0], radix: 16)!
                builder.add(lo, ends.count > 1 ? UInt32(ends[1], radix: 16)! : lo)
            }
            table[canonicalName(String(name))] = builder.build()
        }
        return table
    }()
}
