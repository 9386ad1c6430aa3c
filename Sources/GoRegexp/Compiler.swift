/// Turns a `Node` tree into a `Program`, expanding counted repetitions into copies (`x{2,4}` becomes
/// `xx(x(x)?)?`), and refuses programs past a fixed size so that matching cost, instructions × input
/// length, stays bounded for any pattern the API server accepts.
struct Compiler {
    /// Go's own limit is far larger (millions of instructions); this one keeps a hostile pattern from
    /// costing more than a fixed amount per input character.
    static let maxInstructions = 10_000

    private typealias Instruction = Program.Instruction
    private struct TooLarge: Error {}

    private var code: [Instruction] = []
    private var classes: [CharacterClass] = []

    static func compile(_ node: Node, pattern: String) throws(GoRegexp.SyntaxError) -> Program {
        var compiler = Compiler()
        do {
            try compiler.emit(node)
            try compiler.append(.match)
        } catch {
            throw GoRegexp.SyntaxError(.large, pattern)
        }
        return Program(instructions: compiler.code, classes: compiler.classes, anchoredAtStart: isAnchoredAtStart(node))
    }

    @discardableResult
    private mutating func append(_ instruction: Instruction) throws(TooLarge) -> Int {
        guard code.count < Self.maxInstructions else { throw TooLarge() }
        code.append(instruction)
        return code.count - 1
    }

    /// The index of `cls` in the class table; consecutive copies of one class share an entry.
    private mutating func classIndex(_ cls: CharacterClass) -> Int {
        if let last = classes.last, last == cls { return classes.count - 1 }
        classes.append(cls)
        return classes.count - 1
    }

    /// Work still to do, innermost last. The tree may be 1000 levels deep; a work list instead of
    /// recursion keeps that off the call stack (a debug build's frames are large).
    private enum Step {
        /// Append code for a node.
        case emit(Node)
        /// Point the split's second branch here (the end of a `?`).
        case skipToHere(split: Int)
        /// Jump back to the split, then point its second branch here (the end of a `*`).
        case loopBack(split: Int)
        /// Split back to `start` or fall through (the end of a `+`).
        case repeatFrom(start: Int)
        /// `count` optional copies of a node, nested so each skip leaves all the rest: `(x(x)?)?`.
        case optionalCopies(Node, count: Int)
        /// Alternative `index` of an alternation; `jumps` are the finished ones' exits.
        case alternative([Node], index: Int, jumps: [Int])
        /// Close alternative `index`, begun at `split`.
        case endAlternative([Node], index: Int, split: Int, jumps: [Int])
        /// Point the alternatives' exits here.
        case jumpsToHere([Int])
    }

    /// Appends code for `node` that falls through to whatever follows when it matches.
    private mutating func emit(_ node: Node) throws(TooLarge) {
        var steps: [Step] = [.emit(node)]
        while let step = steps.popLast() {
            switch step {
            case .emit(let node):
                try emitNode(node, &steps)
            case .skipToHere(let split):
                code[split] = .split(split + 1, code.count)
            case .loopBack(let split):
                try append(.jump(split))
                code[split] = .split(split + 1, code.count)
            case .repeatFrom(let start):
                try append(.split(start, code.count + 1))
            case .optionalCopies(let sub, let count):
                guard count > 0 else { break }
                let split = try append(.split(0, 0))
                steps.append(.skipToHere(split: split))
                steps.append(.optionalCopies(sub, count: count - 1))
                steps.append(.emit(sub))
            case .alternative(let subs, let index, let jumps):
                // split L1, S2; L1: first; jump end; S2: split L2, S3; ... ; last; end:
                if index == subs.count - 1 {
                    steps.append(.jumpsToHere(jumps))
                    steps.append(.emit(subs[index]))
                } else {
                    let split = try append(.split(0, 0))
                    steps.append(.endAlternative(subs, index: index, split: split, jumps: jumps))
                    steps.append(.emit(subs[index]))
                }
            case .endAlternative(let subs, let index, let split, let jumps):
                let jump = try append(.jump(0))
                code[split] = .split(split + 1, code.count)
                steps.append(.alternative(subs, index: index + 1, jumps: jumps + [jump]))
            case .jumpsToHere(let jumps):
                for jump in jumps { code[jump] = .jump(code.count) }
            }
        }
    }

    /// Appends the instruction for a leaf, or schedules the steps of a composite node.
    private mutating func emitNode(_ node: Node, _ steps: inout [Step]) throws(TooLarge) {
        switch node.kind {
        case .emptyMatch:
            break
        case .noMatch:
            try append(.fail)
        case .literal(let value, let foldCase):
            let orbit = foldCase ? CaseFolding.orbit(of: value) : [value]
            if orbit.count == 1 {
                try append(.scalar(value))
            } else {
                try append(.scalarIn(classIndex(CharacterClass(orbit.map { $0...$0 }))))
            }
        case .characterClass(let cls):
            if cls.isEmpty {
                try append(.fail)
            } else if let value = cls.singleValue {
                try append(.scalar(value))
            } else if cls == .all {
                try append(.any)
            } else {
                try append(.scalarIn(classIndex(cls)))
            }
        case .anyChar:
            try append(.any)
        case .anyCharNotNewline:
            try append(.anyButNewline)
        case .assertion(let assertion):
            try append(.assert(assertion))
        case .capture(let sub):
            steps.append(.emit(sub))
        case .star(let sub):
            let split = try append(.split(0, 0))
            steps.append(.loopBack(split: split))
            steps.append(.emit(sub))
        case .plus(let sub):
            steps.append(.repeatFrom(start: code.count))
            steps.append(.emit(sub))
        case .quest(let sub):
            let split = try append(.split(0, 0))
            steps.append(.skipToHere(split: split))
            steps.append(.emit(sub))
        case .repetition(let sub, let min, let max):
            // Copies of the operand: x{n,} is n-1 copies then x+ (x* for n = 0); x{n,m} is n copies
            // then m-n nested optional ones.
            if max < 0 {
                steps.append(.emit(Node(min == 0 ? .star(sub) : .plus(sub))))
                for _ in 1..<Swift.max(min, 1) { steps.append(.emit(sub)) }
            } else {
                steps.append(.optionalCopies(sub, count: max - min))
                for _ in 0..<min { steps.append(.emit(sub)) }
            }
        case .concat(let subs):
            for sub in subs.reversed() { steps.append(.emit(sub)) }
        case .alternate(let subs):
            steps.append(.alternative(subs, index: 0, jumps: []))
        }
    }

    /// Whether every match must begin at the start of the text.
    private static func isAnchoredAtStart(_ node: Node) -> Bool {
        var pending = [node]
        while let node = pending.popLast() {
            switch node.kind {
            case .assertion(.beginText): continue
            case .concat(let subs): pending.append(subs[0])
            case .alternate(let subs): pending += subs
            case .capture(let sub), .plus(let sub): pending.append(sub)
            case .repetition(let sub, let min, _) where min > 0: pending.append(sub)
            default: return false
            }
        }
        return true
    }
}
