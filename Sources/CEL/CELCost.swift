import APIMachinery

/// The static cost of a CEL expression: the most it can cost to evaluate against any value its
/// variables' OpenAPI schemas allow, in cel-go's cost units (1 a call, select or identifier;
/// string work at 0.1 a character; comprehensions the range's largest size times their body).
/// Kubernetes refuses a rule whose estimate is over its budget when the CRD is written, so a
/// rule that could stall every write never gets in; schemas bound it with maxItems, maxLength
/// and maxProperties, and without them a size is what fits in the largest request.
public enum CELCost {
    /// The largest request the API server takes (3 MiB); an unbounded string, list or map is
    /// estimated as filling it.
    public static let maxRequestBytes: Double = 3 * 1024 * 1024

    /// The estimated worst-case cost of `program` with each variable shaped by its schema.
    public static func estimate(_ program: CELProgram, schemas: [String: JSON]) -> UInt64 {
        var estimator = Estimator(scope: schemas.mapValues(Shape.init(schema:)))
        let cost = estimator.cost(program.expression).cost
        return cost >= Double(UInt64.max) ? .max : UInt64(cost.rounded(.up))
    }

    /// How many values at most a schema's lists or maps hold: its maxItems/maxProperties, or as
    /// many of its smallest items as fit in a request.
    public static func maxElements(_ schema: JSON) -> Double {
        if schema["type"].string == "array" {
            if let n = schema["maxItems"].int { return Double(n) }
            return ((maxRequestBytes - 2) / (minSerializedSize(schema["items"]) + 1)).rounded(.down)
        }
        if let n = schema["maxProperties"].int { return Double(n) }
        // "key": plus a comma around the smallest value.
        return ((maxRequestBytes - 2) / (minSerializedSize(schema["additionalProperties"]) + 4)).rounded(.down)
    }

    /// The fewest bytes a value of the schema takes in JSON.
    static func minSerializedSize(_ schema: JSON) -> Double {
        if schema["x-kubernetes-int-or-string"] == true { return 1 }
        switch schema["type"].string {
        case "string": return 2 + Double(schema["minLength"].int ?? 0)
        case "boolean": return 4
        case "object", "array": return 2
        default: return 1
        }
    }

    /// The longest string a schema allows, in characters.
    static func maxLength(_ schema: JSON) -> Double {
        if let n = schema["maxLength"].int { return Double(n) }
        if schema["x-kubernetes-int-or-string"] == true { return maxRequestBytes - 2 }
        switch schema["format"].string {
        case "date": return 12
        case "date-time", "duration": return 32
        default: return maxRequestBytes - 2
        }
    }

    /// What the estimator knows of a value: its kind and its largest size.
    indirect enum Shape {
        case string(Double)
        case list(Shape, Double)
        case map(Shape, Double)
        /// An object with declared properties, looked up by name.
        case object(JSON)
        case scalar
        /// A value the estimator cannot size (a library type, a dynamic field): as large as a request.
        case unknown

        init(schema: JSON) {
            if schema["x-kubernetes-int-or-string"] == true { self = .string(CELCost.maxLength(schema)); return }
            switch schema["type"].string {
            case "string": self = .string(CELCost.maxLength(schema))
            case "array": self = .list(Shape(schema: schema["items"]), CELCost.maxElements(schema))
            case "object":
                if schema["properties"].object != nil { self = .object(schema) }
                else if case .object = schema["additionalProperties"] {
                    self = .map(Shape(schema: schema["additionalProperties"]), CELCost.maxElements(schema))
                } else { self = .map(.unknown, CELCost.maxElements(schema)) }
            case "integer", "number", "boolean": self = .scalar
            default: self = .unknown
            }
        }

        var size: Double {
            switch self {
            case .string(let n), .list(_, let n), .map(_, let n): return n
            case .object(let schema): return schema["maxProperties"].int.map(Double.init) ?? Double(schema["properties"].object?.count ?? 0)
            case .scalar: return 1
            case .unknown: return CELCost.maxRequestBytes
            }
        }

        var isString: Bool { if case .string = self { return true } else { return false } }

        /// The shape of an element when iterated or indexed.
        var element: Shape {
            switch self {
            case .list(let e, _): return e
            case .map, .object: return .string(CELCost.maxRequestBytes)
            default: return .unknown
            }
        }

        func field(_ name: String) -> Shape {
            switch self {
            case .object(let schema):
                if case .object = schema["properties"][name] { return Shape(schema: schema["properties"][name]) }
                if case .object = schema["additionalProperties"] { return Shape(schema: schema["additionalProperties"]) }
                return .unknown
            case .map(let value, _): return value
            default: return .unknown
            }
        }
    }

    struct Estimate {
        var cost: Double
        var shape: Shape
    }

    /// cel-go's cost factors.
    static let traversal = 0.1, regex = 0.25, listCreate = 10.0, mapCreate = 30.0

    struct Estimator {
        var scope: [String: Shape]

        mutating func cost(_ e: CELExpr) -> Estimate {
            switch e {
            case .literal(let v):
                switch v {
                case .string(let s): return Estimate(cost: 0, shape: .string(Double(s.count)))
                case .bytes(let b): return Estimate(cost: 0, shape: .string(Double(b.count)))
                default: return Estimate(cost: 0, shape: .scalar)
                }
            case .ident(let name):
                return Estimate(cost: 1, shape: scope[name] ?? .unknown)
            case .select(let operand, let field, let test):
                let o = cost(operand)
                return Estimate(cost: o.cost + 1, shape: test ? .scalar : o.shape.field(field))
            case .list(let items):
                let parts = items.map { cost($0) }
                return Estimate(cost: CELCost.listCreate + parts.reduce(0) { $0 + $1.cost },
                                shape: .list(parts.first?.shape ?? .unknown, Double(items.count)))
            case .map(let entries):
                var total = CELCost.mapCreate
                var value = Shape.unknown
                for (k, v) in entries {
                    total += cost(k).cost
                    let estimate = cost(v)
                    total += estimate.cost
                    value = estimate.shape
                }
                return Estimate(cost: total, shape: .map(value, Double(entries.count)))
            case .comprehension(let macro, let range, let variable, let predicate, let transform):
                let r = cost(range)
                let saved = scope[variable]
                scope[variable] = r.shape.element
                defer { scope[variable] = saved }
                let body = cost(predicate)
                let produced = transform.map { cost($0) }
                // The loop's own work each step: the condition, the accumulator, and for map and
                // filter appending to the result list.
                let step: Double
                let shape: Shape
                switch macro {
                case "map": step = 3 + CELCost.listCreate + (produced?.cost ?? 0); shape = .list(produced?.shape ?? r.shape.element, r.shape.size)
                case "filter": step = 3 + CELCost.listCreate; shape = .list(r.shape.element, r.shape.size)
                default: step = 3; shape = .scalar
                }
                return Estimate(cost: r.cost + r.shape.size * (body.cost + step) + 1, shape: shape)
            case .call(let target, let name, let args):
                return call(target, name, args)
            }
        }

        mutating func call(_ target: CELExpr?, _ name: String, _ argExprs: [CELExpr]) -> Estimate {
            let isNamespace: Bool
            if case .ident(let ns)? = target, scope[ns] == nil, CELProgram.namespaces.contains(ns) { isNamespace = true } else { isNamespace = false }
            let receiver = isNamespace ? nil : target.map { cost($0) }
            let args = argExprs.map { cost($0) }
            let operands = (receiver.map { [$0] } ?? []) + args
            let inputs = operands.reduce(0) { $0 + $1.cost }
            let first = operands.first?.shape ?? .unknown
            let second = operands.count > 1 ? operands[1].shape : .unknown
            func strings(_ shapes: Shape...) -> Double { CELCost.traversal * shapes.reduce(0) { $0 + $1.size } }

            if isNamespace, case .ident(let ns)? = target, ns == "sets" {
                // sets.contains, sets.intersects, sets.equivalent: every element against every other.
                return Estimate(cost: inputs + 1 + first.size * second.size, shape: .scalar)
            }
            switch name {
            case "_&&_", "_||_":
                return Estimate(cost: inputs, shape: .scalar)
            case "_?_:_":
                let branch = args[1].cost >= args[2].cost ? args[1] : args[2]
                return Estimate(cost: args[0].cost + branch.cost, shape: branch.shape)
            case "_==_", "_!=_", "_<_", "_<=_", "_>_", "_>=_":
                let smaller = min(first.size, second.size)
                let compare: Double
                switch (first, second) {
                case (.string, _), (_, .string): compare = CELCost.traversal * smaller
                case (.list, _), (.map, _), (.object, _): compare = smaller
                default: compare = 0
                }
                return Estimate(cost: inputs + 1 + compare, shape: .scalar)
            case "_+_":
                switch (first, second) {
                case (.string(let a), .string(let b)): return Estimate(cost: inputs + 1 + CELCost.traversal * (a + b), shape: .string(a + b))
                case (.list(let e, let a), .list(_, let b)): return Estimate(cost: inputs + 1, shape: .list(e, a + b))
                default: return Estimate(cost: inputs + 1, shape: .scalar)
                }
            case "@in":
                let traversal = second.element.isString ? CELCost.traversal * first.size : 1
                if case .list(_, let n) = second { return Estimate(cost: inputs + 1 + n * traversal, shape: .scalar) }
                return Estimate(cost: inputs + 1, shape: .scalar)
            case "_[_]":
                if case .literal(.string(let key)) = argExprs.last { return Estimate(cost: inputs + 1, shape: first.field(key)) }
                if case .map(let value, _) = first { return Estimate(cost: inputs + 1, shape: value) }
                return Estimate(cost: inputs + 1, shape: first.element)
            case "matches":
                // cel-go prices a match at the string's length times the pattern's.
                return Estimate(cost: inputs + 1 + CELCost.regex * first.size * CELCost.regex * second.size, shape: .scalar)
            case "contains", "startsWith", "endsWith", "indexOf", "lastIndexOf", "find", "findAll":
                if case .list(_, let n) = first { return Estimate(cost: inputs + 1 + n, shape: .scalar) }
                let shape: Shape = name == "findAll" ? .list(.string(first.size), first.size) : (name == "find" ? .string(first.size) : .scalar)
                return Estimate(cost: inputs + 1 + strings(first, second), shape: shape)
            case "lowerAscii", "upperAscii", "trim", "substring", "charAt", "reverse", "replace", "string", "format", "quote":
                let size = name == "replace" ? CELCost.maxRequestBytes : first.size
                return Estimate(cost: inputs + 1 + strings(first), shape: .string(size))
            case "split":
                return Estimate(cost: inputs + 1 + strings(first), shape: .list(.string(first.size), first.size))
            case "join":
                // All the strings together fit in the request however many there are.
                let joined = min(first.element.size * first.size, CELCost.maxRequestBytes)
                return Estimate(cost: inputs + 1 + CELCost.traversal * joined, shape: .string(joined))
            case "isSorted", "sum", "min", "max", "distinct", "flatten", "sort", "slice":
                if case .list = first {
                    let result: Shape = ["distinct", "flatten", "sort", "slice"].contains(name) ? first : first.element
                    return Estimate(cost: inputs + 1 + first.size, shape: result)
                }
                return Estimate(cost: inputs + 1, shape: .scalar)
            case "size", "int", "uint", "double", "bool", "type", "has":
                return Estimate(cost: inputs + 1, shape: .scalar)
            case "quantity", "isQuantity", "url", "isURL", "ip", "isIP", "cidr", "isCIDR", "bytes", "timestamp", "duration":
                return Estimate(cost: inputs + 1 + strings(first), shape: .unknown)
            case "dyn":
                return Estimate(cost: inputs + 1, shape: first)
            default:
                return Estimate(cost: inputs + 1, shape: .unknown)
            }
        }
    }
}
