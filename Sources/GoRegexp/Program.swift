/// A compiled pattern: a Thompson NFA as a list of instructions. Execution starts at instruction 0;
/// consuming instructions continue at the next one.
struct Program: Sendable {
    enum Instruction: Sendable {
        /// A match has been found.
        case match
        /// A path that can never match (an empty class).
        case fail
        /// Consume one scalar equal to this code point.
        case scalar(UInt32)
        /// Consume one scalar in `classes[index]` (kept apart so stepping over instructions copies no arrays).
        case scalarIn(Int)
        /// Consume any scalar.
        case any
        /// Consume any scalar but newline.
        case anyButNewline
        /// Continue at both targets.
        case split(Int, Int)
        case jump(Int)
        /// Continue at the next instruction only if the condition holds here.
        case assert(Assertion)
    }

    let instructions: [Instruction]
    let classes: [CharacterClass]
    /// The pattern can only match at the start of the text (`^...` without (?m), `\A...`), so the
    /// matcher need not start new attempts later on.
    let anchoredAtStart: Bool
}
