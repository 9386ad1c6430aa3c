/// Runs a `Program` over text as a Thompson simulation: the set of live instructions advances over the
/// input one scalar at a time, each instruction at most once per position, so a match costs
/// O(instructions × scalars) whatever the pattern, with no backtracking and no recursion. Only whether
/// a match exists is asked, so threads carry no capture positions and the first `match` ends the run.
struct Matcher {
    let program: Program

    /// What the zero-width assertions can see at one position: the scalars on either side.
    private struct Context {
        var previous: UInt32?
        var following: UInt32?

        func holds(_ assertion: Assertion) -> Bool {
            switch assertion {
            case .beginText: return previous == nil
            case .endText: return following == nil
            case .beginLine: return previous == nil || previous == 0x0A
            case .endLine: return following == nil || following == 0x0A
            case .wordBoundary: return isWord(previous) != isWord(following)
            case .noWordBoundary: return isWord(previous) == isWord(following)
            }
        }

        private func isWord(_ value: UInt32?) -> Bool { value.map(NamedClasses.isWordCharacter) ?? false }
    }

    /// Whether the program matches anywhere in `text`.
    func matches(_ text: String) -> Bool {
        let instructions = program.instructions
        let classes = program.classes
        var current = StateSet(capacity: instructions.count)
        var next = StateSet(capacity: instructions.count)
        var pending: [Int] = []
        let scalars = text.unicodeScalars
        var index = scalars.startIndex
        var context = Context(previous: nil, following: index < scalars.endIndex ? scalars[index].value : nil)
        while true {
            // A new attempt may start here, unless the pattern is pinned to the start of the text.
            if !program.anchoredAtStart || context.previous == nil {
                if Self.add(0, to: &current, instructions, context, &pending) { return true }
            }
            guard let scalar = context.following else { return false }
            if current.isEmpty && program.anchoredAtStart { return false }

            index = scalars.index(after: index)
            let after = Context(previous: scalar, following: index < scalars.endIndex ? scalars[index].value : nil)
            next.removeAll()
            for member in current.members {
                let pc = Int(member)
                let advances: Bool
                switch instructions[pc] {
                case .scalar(let value): advances = scalar == value
                case .scalarIn(let index): advances = classes[index].contains(scalar)
                case .any: advances = true
                case .anyButNewline: advances = scalar != 0x0A
                default: advances = false  // non-consuming instructions were followed when added
                }
                if advances && Self.add(pc + 1, to: &next, instructions, after, &pending) { return true }
            }
            swap(&current, &next)
            context = after
        }
    }

    /// Adds `pc` and everything reachable from it without consuming input; reports reaching `match`.
    /// `pending` is the work list, passed in so its storage is reused across positions.
    private static func add(_ pc: Int, to set: inout StateSet, _ instructions: [Program.Instruction], _ context: Context,
                            _ pending: inout [Int]) -> Bool
    {
        pending.removeAll(keepingCapacity: true)
        pending.append(pc)
        while let pc = pending.popLast() {
            guard set.insert(pc) else { continue }
            switch instructions[pc] {
            case .match: return true
            case .jump(let target): pending.append(target)
            case .split(let first, let second):
                pending.append(second)
                pending.append(first)
            case .assert(let assertion):
                if context.holds(assertion) { pending.append(pc + 1) }
            case .fail, .scalar, .scalarIn, .any, .anyButNewline:
                break
            }
        }
        return false
    }
}

/// A set of instruction indices with O(1) insert, membership and clear (the sparse-set trick), kept
/// in insertion order.
struct StateSet {
    private var dense: [Int32]
    private var sparse: [Int32]
    private(set) var count = 0

    init(capacity: Int) {
        dense = Array(repeating: 0, count: capacity)
        sparse = Array(repeating: 0, count: capacity)
    }

    var isEmpty: Bool { count == 0 }
    var members: ArraySlice<Int32> { dense[0..<count] }

    /// Inserts `value`; false when it was already present.
    mutating func insert(_ value: Int) -> Bool {
        let slot = Int(sparse[value])
        if slot < count && dense[slot] == Int32(value) { return false }
        sparse[value] = Int32(count)
        dense[count] = Int32(value)
        count += 1
        return true
    }

    mutating func removeAll() { count = 0 }
}
