import APIMachinery
import CEL
import Foundation

/// A CRD schema's x-kubernetes-validations: CEL rules on the value they sit on (`self`), and on
/// its previous value (`oldSelf`) when the rule is a transition rule, which only updates run.
/// Checked when the CRD is written (a rule that does not compile refuses the CRD) and on every
/// write of a custom resource, with upstream's messages.
public enum ValidationRules {
    static let variables: Set<String> = ["self", "oldSelf"]

    // MARK: when the CRD is written

    /// Upstream's static cost limits: one expression (times the most values it can run on), and
    /// all of a schema's expressions together.
    static let expressionCostLimit: UInt64 = 10_000_000
    static let schemaCostLimit: UInt64 = 100_000_000

    /// The rules of a version's schema that do not compile, or could cost more than upstream's
    /// limits allow, at their paths below `path`.
    static func compileErrors(_ schema: JSON, _ path: String) -> [FieldError] {
        var total = CostTotal()
        var errors = compileErrors(schema, path, cardinality: 1, total: &total)
        if total.sum > schemaCostLimit {
            errors += total.mostExpensive.map { .forbidden($0.path, "contributed to estimated rule cost total exceeding cost limit for entire OpenAPIv3 schema") }
            errors.append(.forbidden(path, costMessage("x-kubernetes-validations estimated rule cost total for entire OpenAPIv3 schema", total.sum, schemaCostLimit)))
        }
        return errors
    }

    /// `cardinality`: how many times at most the rules here run for one object (the sizes of the
    /// lists and maps above them).
    static func compileErrors(_ schema: JSON, _ path: String, cardinality: UInt64, total: inout CostTotal) -> [FieldError] {
        var errors: [FieldError] = []
        let shapes = ["self": schema, "oldSelf": schema]
        for (i, rule) in (schema["x-kubernetes-validations"].array ?? []).enumerated() {
            let rulePath = "\(path).x-kubernetes-validations[\(i)]"
            let text = rule["rule"].string ?? ""
            if text.isEmpty { errors.append(.required("\(rulePath).rule")); continue }
            do throws(CELSyntaxError) {
                let program = try CELProgram(text, variables: variables)
                let cost = multiplied(CELCost.estimate(program, schemas: shapes), cardinality)
                if cost > expressionCostLimit {
                    errors.append(.forbidden("\(rulePath).rule", costMessage("estimated rule cost", cost, expressionCostLimit)))
                }
                total.observe("\(rulePath).rule", cost)
            } catch {
                errors.append(invalidRule("\(rulePath).rule", rule, "compilation failed: \(error)"))
            }
            if let expression = rule["messageExpression"].string, !expression.isEmpty {
                do throws(CELSyntaxError) {
                    let program = try CELProgram(expression, variables: variables)
                    let cost = CELCost.estimate(program, schemas: shapes)
                    if cost > expressionCostLimit {
                        errors.append(.forbidden("\(rulePath).messageExpression", costMessage("estimated messageExpression cost", cost, expressionCostLimit)))
                    }
                    total.observe("\(rulePath).messageExpression", cost)
                } catch {
                    errors.append(.invalid("\(rulePath).messageExpression", .string(expression), "messageExpression compilation failed: \(error)"))
                }
            }
            if let reason = rule["reason"].string, !["FieldValueInvalid", "FieldValueForbidden", "FieldValueRequired", "FieldValueDuplicate"].contains(reason) {
                errors.append(.notSupported("\(rulePath).reason", .string(reason), ["FieldValueDuplicate", "FieldValueForbidden", "FieldValueInvalid", "FieldValueRequired"]))
            }
        }
        for (key, child) in (schema["properties"].object ?? [:]).sorted(by: { $0.key < $1.key }) {
            errors += compileErrors(child, "\(path).properties[\(key)]", cardinality: cardinality, total: &total)
        }
        let elements = multiplied(cardinality, UInt64(CELCost.maxElements(schema)))
        if case .object = schema["items"] {
            errors += compileErrors(schema["items"], "\(path).items", cardinality: elements, total: &total)
        }
        if case .object = schema["additionalProperties"] {
            errors += compileErrors(schema["additionalProperties"], "\(path).additionalProperties", cardinality: elements, total: &total)
        }
        return errors
    }

    /// The estimated costs of a schema's expressions, summed, and the four largest (upstream
    /// names those when the sum is over the limit).
    struct CostTotal {
        var sum: UInt64 = 0
        var mostExpensive: [(path: String, cost: UInt64)] = []

        mutating func observe(_ path: String, _ cost: UInt64) {
            sum = sum.addingReportingOverflow(cost).overflow ? .max : sum + cost
            guard cost > 0 else { return }
            mostExpensive.append((path, cost))
            mostExpensive.sort { $0.cost > $1.cost }
            if mostExpensive.count > 4 { mostExpensive.removeLast() }
        }
    }

    static func multiplied(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let (product, overflow) = a.multipliedReportingOverflow(by: b)
        return overflow ? .max : product
    }

    /// Upstream's words for an expression over budget, with the factor as Go formats it.
    static func costMessage(_ name: String, _ cost: UInt64, _ limit: UInt64) -> String {
        let factor = Double(cost) / Double(limit)
        let shown = factor > 100 ? "more than 100x" : factor < 1.5 ? String(format: "%fx", factor) : String(format: "%.1fx", factor)
        return "\(name) exceeds budget by factor of \(shown) (try simplifying the rule, or adding maxItems, maxProperties, and maxLength where arrays, maps, and strings are declared)"
    }

    /// The rule as Go prints apiextensions.ValidationRule (%#v), as upstream's errors show it.
    static func invalidRule(_ path: String, _ rule: JSON, _ detail: String) -> FieldError {
        var error = FieldError.invalid(path, .null, detail)
        func quoted(_ s: String?) -> String { "\"" + (s ?? "").replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
        error.goValue = "apiextensions.ValidationRule{Rule:\(quoted(rule["rule"].string)), Message:\(quoted(rule["message"].string)), "
            + "MessageExpression:\(quoted(rule["messageExpression"].string)), Reason:(*apiextensions.FieldValueErrorReason)(nil), "
            + "FieldPath:\(quoted(rule["fieldPath"].string)), OptionalOldSelf:(*bool)(nil)}"
        return error
    }

    // MARK: on every write

    /// The failures of the rules on `value` (and below it), `old` being the previous object on an
    /// update (nil on a create, where transition rules do not run).
    public static func check(_ value: JSON, _ schema: JSON, old: JSON?, path: String = "") -> [FieldError] {
        guard case .object = schema, !value.isNull else { return [] }
        var errors: [FieldError] = []
        let rules = schema["x-kubernetes-validations"].array ?? []
        let current = rules.isEmpty ? CELValue.null : CELValue.from(value, schema: schema)
        // The old value only for transition rules, once for all of them.
        var previous: CELValue?
        for rule in rules {
            guard let text = rule["rule"].string, let program = try? CELProgram.cached(text, variables: variables) else { continue }
            let transition = program.references.contains("oldSelf")
            if transition && (old == nil || old?.isNull == true) { continue }
            var vars: [String: CELValue] = ["self": current]
            if transition, let old {
                if previous == nil { previous = CELValue.from(old, schema: schema) }
                vars["oldSelf"] = previous
            }
            let result = program.evaluate(vars)
            if case .bool(true) = result { continue }
            let type = JSON.string(schema["type"].string ?? "object")
            let fieldPath = join(path, rule["fieldPath"].string ?? "")
            let shown = fieldPath.isEmpty ? "<nil>" : fieldPath
            if case .error(let message) = result {
                errors.append(.invalid(shown, type, message))
                continue
            }
            var message = rule["message"].string.flatMap { $0.isEmpty ? nil : $0 } ?? "failed rule: \(ruleText(text))"
            if let expression = rule["messageExpression"].string, !expression.isEmpty,
               let messageProgram = try? CELProgram.cached(expression, variables: variables),
               case .string(let computed) = messageProgram.evaluate(vars), !computed.isEmpty, !computed.contains("\n") {
                message = computed
            }
            switch rule["reason"].string {
            case "FieldValueForbidden": errors.append(.forbidden(shown, message))
            case "FieldValueRequired": errors.append(.required(shown, message))
            case "FieldValueDuplicate": errors.append(FieldError(.duplicate, shown, type, message))
            default: errors.append(.invalid(shown, type, message))
            }
        }
        switch value {
        case .object(let members):
            let properties = schema["properties"].object ?? [:]
            for (key, member) in members.sorted(by: { $0.key < $1.key }) {
                let additional: JSON? = schema["additionalProperties"].object != nil ? schema["additionalProperties"] : nil
                guard let child = properties[key] ?? additional else { continue }
                let childPath = properties[key] != nil ? join(path, key) : "\(path)[\(key)]"
                let oldMember = old.flatMap { $0.object?[key] }
                errors += check(member, child, old: oldMember, path: childPath)
            }
        case .array(let items):
            guard case .object = schema["items"] else { break }
            let keys = (schema["x-kubernetes-list-map-keys"].array ?? []).compactMap(\.string)
            let oldItems = old?.array ?? []
            for (i, item) in items.enumerated() {
                // Items correlate with their previous selves only in map lists (by key) and sets.
                var oldItem: JSON? = nil
                if schema["x-kubernetes-list-type"].string == "map", !keys.isEmpty {
                    oldItem = oldItems.first { o in keys.allSatisfy { o[$0] == item[$0] } }
                } else if schema["x-kubernetes-list-type"].string == "set" {
                    oldItem = oldItems.first { $0 == item }
                }
                errors += check(item, schema["items"], old: oldItem, path: "\(path)[\(i)]")
            }
        default: break
        }
        return errors
    }

    static func join(_ path: String, _ child: String) -> String {
        if child.isEmpty { return path }
        let trimmed = child.hasPrefix(".") ? String(child.dropFirst()) : child
        return path.isEmpty ? trimmed : "\(path).\(trimmed)"
    }

    /// A rule as it appears in "failed rule: ...": upstream trims the text of surrounding space.
    static func ruleText(_ text: String) -> String { text.trimmingCharacters(in: .whitespacesAndNewlines) }
}
