/// A set of code points kept as sorted, disjoint, non-adjacent closed ranges, the way Go's parser
/// keeps a class's runes. Code points rather than `Unicode.Scalar`s, because Go lets a pattern name a
/// surrogate (`\x{D800}`) that simply never matches.
struct CharacterClass: Sendable, Equatable {
    static let maxCodePoint: UInt32 = 0x10FFFF

    /// lo0, hi0, lo1, hi1, ...: flat, so a lookup is one binary search over one array.
    private(set) var bounds: [UInt32]

    static let empty = CharacterClass(bounds: [])
    static let all = CharacterClass(bounds: [0, maxCodePoint])

    private init(bounds: [UInt32]) { self.bounds = bounds }

    /// A class from ranges in any order, overlapping or not.
    init(_ ranges: [ClosedRange<UInt32>]) {
        var builder = Builder()
        for r in ranges { builder.add(r.lowerBound, r.upperBound) }
        self = builder.build()
    }

    init(single value: UInt32) { self.init(bounds: [value, value]) }

    var isEmpty: Bool { bounds.isEmpty }

    /// The lone code point when the class holds exactly one (so it can compile to a plain comparison).
    var singleValue: UInt32? { bounds.count == 2 && bounds[0] == bounds[1] ? bounds[0] : nil }

    var ranges: [ClosedRange<UInt32>] { stride(from: 0, to: bounds.count, by: 2).map { bounds[$0]...bounds[$0 + 1] } }

    func contains(_ value: UInt32) -> Bool {
        // Most classes in real patterns are a handful of ranges: a linear scan beats the search there.
        if bounds.count <= 8 {
            var i = 0
            while i < bounds.count {
                if value < bounds[i] { return false }
                if value <= bounds[i + 1] { return true }
                i += 2
            }
            return false
        }
        var lo = 0, hi = bounds.count / 2
        while lo < hi {
            let mid = (lo + hi) / 2
            if value > bounds[2 * mid + 1] { lo = mid + 1 } else if value < bounds[2 * mid] { hi = mid } else { return true }
        }
        return false
    }

    /// Every code point not in the class.
    var inverted: CharacterClass {
        var out: [UInt32] = []
        var nextLo: UInt32 = 0
        var i = 0
        var reachedEnd = false
        while i < bounds.count {
            let lo = bounds[i], hi = bounds[i + 1]
            if lo > nextLo { out.append(nextLo); out.append(lo - 1) }
            if hi == Self.maxCodePoint { reachedEnd = true; break }
            nextLo = hi + 1
            i += 2
        }
        if !reachedEnd { out.append(nextLo); out.append(Self.maxCodePoint) }
        return CharacterClass(bounds: out)
    }

    /// Collects ranges unsorted; `build` sorts and merges once, as Go's cleanClass does.
    struct Builder {
        private var pairs: [(UInt32, UInt32)] = []

        mutating func add(_ lo: UInt32, _ hi: UInt32) {
            // Fast path for the common "extend the last range" case (tables, folded alphabets).
            if let last = pairs.last, lo >= last.0, lo <= last.1 &+ 1 {
                if hi > last.1 { pairs[pairs.count - 1].1 = hi }
                return
            }
            pairs.append((lo, hi))
        }

        mutating func add(_ value: UInt32) { add(value, value) }

        mutating func add(_ cls: CharacterClass) {
            var i = 0
            while i < cls.bounds.count { add(cls.bounds[i], cls.bounds[i + 1]); i += 2 }
        }

        func build() -> CharacterClass {
            let sorted = pairs.sorted { $0.0 < $1.0 || ($0.0 == $1.0 && $0.1 > $1.1) }
            var out: [UInt32] = []
            out.reserveCapacity(sorted.count * 2)
            for (lo, hi) in sorted {
                if let last = out.last, lo <= last &+ 1 {
                    if hi > last { out[out.count - 1] = hi }
                } else {
                    out.append(lo)
                    out.append(hi)
                }
            }
            return CharacterClass(bounds: out)
        }
    }
}
