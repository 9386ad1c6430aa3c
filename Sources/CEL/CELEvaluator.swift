import Foundation
import GoRegexp

/// Evaluates a parsed CEL expression against its variables, with CEL's semantics: errors are
/// values, `&&` and `||` are commutative over errors (false && error is false), integer
/// arithmetic is checked, and numbers compare across types.
public struct CELEvaluator: Sendable {
    public var variables: [String: CELValue]
    /// Comprehension steps left before the evaluation gives up (a runaway rule stops here).
    let budget: Budget

    final class Budget: @unchecked Sendable {
        var remaining: Int
        init(_ n: Int) { remaining = n }
    }

    public init(variables: [String: CELValue], costLimit: Int = 1_000_000) {
        self.variables = variables
        self.budget = Budget(costLimit)
    }

    static let typeNames: Set<String> = ["int", "uint", "double", "string", "bytes", "bool", "null_type", "list", "map", "type"]

    public func evaluate(_ expr: CELExpr) -> CELValue {
        budget.remaining -= 1
        if budget.remaining < 0 { return .error("operation cancelled: actual cost limit exceeded") }
        switch expr {
        case .literal(let v): return v
        case .ident(let name):
            if let v = variables[name] { return v }
            if Self.typeNames.contains(name) { return .type(name) }
            return .error("undeclared reference to '\(name)'")
        case .select(let operand, let field, let test):
            let target = evaluate(operand)
            switch target {
            case .map(let entries):
                let found = entries.first { CELValue.equal($0.key, .string(field)) }
                if test { return .bool(found != nil) }
                return found?.value ?? .error("no such key: \(field)")
            case .error: return target
            default: return .error("type '\(target.typeName)' does not support field selection")
            }
        case .list(let items):
            var values: [CELValue] = []
            for item in items {
                let v = evaluate(item)
                if v.isError { return v }
                values.append(v)
            }
            return .list(values)
        case .map(let entries):
            var values: [(key: CELValue, value: CELValue)] = []
            for (k, e) in entries {
                let key = evaluate(k), value = evaluate(e)
                if key.isError { return key }
                if value.isError { return value }
                if values.contains(where: { CELValue.equal($0.key, key) }) { return .error("Failed with repeated key") }
                values.append((key, value))
            }
            return .map(values)
        case .comprehension(let macro, let range, let variable, let predicate, let transform):
            return comprehension(macro, evaluate(range), variable, predicate, transform)
        case .call(let target, let name, let args):
            return call(target, name, args)
        }
    }

    // MARK: operators with their own evaluation order

    func call(_ target: CELExpr?, _ name: String, _ args: [CELExpr]) -> CELValue {
        switch (name, args.count) {
        case ("_&&_", 2), ("_||_", 2):
            // Commutative: a decisive operand wins over an error on the other side.
            let decisive = name == "_||_"
            let left = evaluate(args[0])
            if case .bool(decisive) = left { return left }
            let right = evaluate(args[1])
            if case .bool(decisive) = right { return right }
            if left.isError { return left }
            if right.isError { return right }
            guard case .bool = left, case .bool = right else { return CELValue.noOverload(decisive ? "_||_" : "_&&_", [left, right]) }
            return .bool(!decisive)
        case ("_?_:_", 3):
            switch evaluate(args[0]) {
            case .bool(true): return evaluate(args[1])
            case .bool(false): return evaluate(args[2])
            case let other: return other.isError ? other : CELValue.noOverload("_?_:_", [other])
            }
        default:
            // math.greatest(...), sets.contains(...): a library's namespace, not a receiver.
            if case .ident(let namespace)? = target, variables[namespace] == nil, CELProgram.namespaces.contains(namespace) {
                let values = args.map(evaluate)
                if let error = values.first(where: \.isError) { return error }
                return CELLibrary.call("\(namespace).\(name)", values)
            }
            var values: [CELValue] = []
            if let target { values.append(evaluate(target)) }
            for arg in args { values.append(evaluate(arg)) }
            if let error = values.first(where: \.isError) { return error }
            return CELLibrary.call(name, values)
        }
    }

    func comprehension(_ macro: String, _ range: CELValue, _ variable: String, _ predicate: CELExpr, _ transform: CELExpr?) -> CELValue {
        let elements: [CELValue]
        switch range {
        case .list(let l): elements = l
        case .map(let m): elements = m.map(\.key)
        case .error: return range
        default: return .error("expression of type '\(range.typeName)' cannot be range of a comprehension (must be list, map, or dynamic)")
        }
        var scope = self
        var results: [CELValue] = []
        var matches = 0
        var firstError: CELValue?
        for element in elements {
            scope.variables[variable] = element
            let test = scope.evaluate(predicate)
            switch macro {
            case "all":
                if case .bool(false) = test { return .bool(false) }
                if test.isError || !isBool(test) { firstError = firstError ?? (test.isError ? test : CELValue.noOverload("_&&_", [test])) }
            case "exists":
                if case .bool(true) = test { return .bool(true) }
                if test.isError || !isBool(test) { firstError = firstError ?? (test.isError ? test : CELValue.noOverload("_||_", [test])) }
            case "exists_one":
                if test.isError { return test }
                if case .bool(true) = test { matches += 1 }
            case "filter":
                if test.isError { return test }
                if case .bool(true) = test { results.append(element) }
            default:  // map, with an optional filter
                if test.isError { return test }
                if case .bool(true) = test, let transform {
                    let value = scope.evaluate(transform)
                    if value.isError { return value }
                    results.append(value)
                }
            }
        }
        switch macro {
        case "all": return firstError ?? .bool(true)
        case "exists": return firstError ?? .bool(false)
        case "exists_one": return .bool(matches == 1)
        default: return .list(results)
        }
    }

    func isBool(_ v: CELValue) -> Bool { if case .bool = v { return true } else { return false } }
}
