import Synchronization

/// A CEL expression checked against the variables it may use: what Kubernetes compiles when a
/// rule is written (a CRD, a policy), so a rule that cannot run is refused then, not at each write.
public struct CELProgram: Sendable {
    public let source: String
    public let expression: CELExpr
    /// The declared variables the expression reads (`oldSelf` marks a transition rule).
    public let references: Set<String>

    static let namespaces: Set<String> = ["math", "sets", "strings", "lists"]

    /// `checked` false leaves undeclared names to fail when evaluated (cel-go's disable_check).
    public init(_ source: String, variables: Set<String>, checked: Bool = true) throws(CELSyntaxError) {
        self.source = source
        expression = try CELParser.parse(source)
        var found: Set<String> = []
        var undeclared: String?
        Self.walk(expression, bound: [], variables: variables, found: &found, undeclared: &undeclared)
        if checked, let undeclared {
            // Where the name first stands as a word (the tree keeps no positions).
            let chars = Array(source), name = Array(undeclared)
            let offset = chars.indices.first { i in
                i + name.count <= chars.count && Array(chars[i..<i + name.count]) == name
                    && (i == 0 || !(chars[i - 1].isLetter || chars[i - 1].isNumber || chars[i - 1] == "_" || chars[i - 1] == "."))
            } ?? 0
            throw CELSyntaxError(message: "undeclared reference to '\(undeclared)' (in container '')", at: offset, in: chars)
        }
        references = found
    }

    /// The program for `source`, compiled once and kept: rules and policies run on every write,
    /// and parsing is most of a small rule's cost. The cache is emptied when it grows past 4,096
    /// programs (rules of deleted CRDs are not tracked).
    public static func cached(_ source: String, variables: Set<String>) throws(CELSyntaxError) -> CELProgram {
        let key = source + "\u{0}" + variables.sorted().joined(separator: ",")
        if let program = cache.withLock({ $0[key] }) { return program }
        let program = try CELProgram(source, variables: variables)
        cache.withLock { all in
            if all.count >= 4096 { all.removeAll() }
            all[key] = program
        }
        return program
    }

    static let cache = Mutex<[String: CELProgram]>([:])

    public func evaluate(_ variables: [String: CELValue], costLimit: Int = 1_000_000) -> CELValue {
        CELEvaluator(variables: variables, costLimit: costLimit).evaluate(expression)
    }

    static func walk(_ e: CELExpr, bound: Set<String>, variables: Set<String>, found: inout Set<String>, undeclared: inout String?) {
        switch e {
        case .literal: return
        case .ident(let name):
            if bound.contains(name) || CELEvaluator.typeNames.contains(name) { return }
            if variables.contains(name) { found.insert(name) } else if undeclared == nil { undeclared = name }
        case .select(let operand, _, _): walk(operand, bound: bound, variables: variables, found: &found, undeclared: &undeclared)
        case .call(let target, _, let args):
            if let target {
                if case .ident(let ns) = target, namespaces.contains(ns), !variables.contains(ns) {} else {
                    walk(target, bound: bound, variables: variables, found: &found, undeclared: &undeclared)
                }
            }
            for a in args { walk(a, bound: bound, variables: variables, found: &found, undeclared: &undeclared) }
        case .list(let items): for i in items { walk(i, bound: bound, variables: variables, found: &found, undeclared: &undeclared) }
        case .map(let entries):
            for (k, v) in entries {
                walk(k, bound: bound, variables: variables, found: &found, undeclared: &undeclared)
                walk(v, bound: bound, variables: variables, found: &found, undeclared: &undeclared)
            }
        case .comprehension(_, let range, let variable, let predicate, let transform):
            walk(range, bound: bound, variables: variables, found: &found, undeclared: &undeclared)
            let inner = bound.union([variable])
            walk(predicate, bound: inner, variables: variables, found: &found, undeclared: &undeclared)
            if let transform { walk(transform, bound: inner, variables: variables, found: &found, undeclared: &undeclared) }
        }
    }
}
