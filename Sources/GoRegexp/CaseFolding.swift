/// Case-insensitive matching, `(?i)`: each code point belongs to an orbit of code points that are
/// equal under simple case folding (k, K and the Kelvin sign K; s, S and the long s ſ), as Go's
/// unicode.SimpleFold walks them. The standard library has no case-folding table, so the orbits are
/// derived from the single-scalar upper- and lowercase mappings: two scalars share an orbit when
/// lowercase(uppercase(x)) agrees.
enum CaseFolding {
    /// Go folds nothing below 'A' or above this (Adlam), so ranges outside are left as they are.
    static let lowest: UInt32 = 0x41
    static let highest: UInt32 = 0x1E943

    /// The orbit of `value`, itself included, sorted; a single element when nothing folds to it.
    static func orbit(of value: UInt32) -> [UInt32] {
        table.orbits[value] ?? [value]
    }

    /// The class plus every code point that folds to one of its members.
    static func fold(_ cls: CharacterClass) -> CharacterClass {
        let members = table.sortedMembers
        var builder = CharacterClass.Builder()
        builder.add(cls)
        for range in cls.ranges where range.upperBound >= lowest && range.lowerBound <= highest {
            // Only scalars with a non-trivial orbit can add anything: find the first one in range.
            var lo = 0, hi = members.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if members[mid] < range.lowerBound { lo = mid + 1 } else { hi = mid }
            }
            var i = lo
            while i < members.count, members[i] <= range.upperBound {
                for other in table.orbits[members[i]]! { builder.add(other) }
                i += 1
            }
        }
        return builder.build()
    }

    private struct Table: Sendable {
        var orbits: [UInt32: [UInt32]] = [:]
        var sortedMembers: [UInt32] = []
    }

    /// Built once, on first use of `(?i)`: a scan of the folding range for scalars that change
    /// under case mapping (a few thousand), grouped by their folded key.
    private static let table: Table = {
        var groups: [UInt32: [UInt32]] = [:]
        for value in lowest...highest {
            // Dotted and dotless i fold only under Turkish rules, which Go does not apply.
            if value == 0x130 || value == 0x131 { continue }
            guard let scalar = Unicode.Scalar(value), scalar.properties.changesWhenCaseMapped else { continue }
            groups[key(scalar), default: []].append(value)
        }
        var table = Table()
        for (key, var members) in groups {
            if !members.contains(key) { members.append(key) }
            guard members.count > 1 else { continue }
            members.sort()
            for m in members { table.orbits[m] = members }
        }
        table.sortedMembers = table.orbits.keys.sorted()
        return table
    }()

    private static func key(_ scalar: Unicode.Scalar) -> UInt32 {
        let upper = single(scalar.properties.uppercaseMapping) ?? scalar
        let lower = single(upper.properties.lowercaseMapping) ?? upper
        return lower.value
    }

    /// The mapping when it is one scalar; full mappings like ß → SS are not simple folds.
    private static func single(_ mapping: String) -> Unicode.Scalar? {
        let scalars = mapping.unicodeScalars
        guard let first = scalars.first, scalars.index(after: scalars.startIndex) == scalars.endIndex else { return nil }
        return first
    }
}
