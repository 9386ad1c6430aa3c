import APIMachinery
import CEL
import Testing

/// The static estimate grows with what the schema lets a value hold, as upstream's does: bounds
/// shrink it, nesting multiplies it.
@Suite struct CELCostTests {
    func cost(_ rule: String, _ schema: JSON) throws -> UInt64 {
        CELCost.estimate(try CELProgram(rule, variables: ["self"]), schemas: ["self": schema])
    }

    let strings: JSON = ["type": "array", "items": ["type": "string"]]
    let bounded: JSON = ["type": "array", "maxItems": 10, "items": ["type": "string", "maxLength": 20]]

    @Test func scalarsCostTheirOperations() throws {
        let object: JSON = ["type": "object", "properties": ["min": ["type": "integer"], "max": ["type": "integer"]]]
        // Two selects of an identifier each (2 + 2) and the comparison.
        #expect(try cost("self.min <= self.max", object) == 5)
    }

    @Test func comprehensionsCostTheirRangesLargestSize() throws {
        let unbounded = try cost("self.all(x, x.size() < 5)", strings)
        let small = try cost("self.all(x, x.size() < 5)", bounded)
        #expect(small < 100)
        // As many of the smallest strings ("") as fit in 3 MiB, comma-separated.
        #expect(unbounded > 1_048_575 * 3)
        #expect(unbounded < 10_000_000)
    }

    @Test func nestedComprehensionsMultiply() throws {
        let quadratic = try cost("self.all(x, self.exists_one(y, x == y))", strings)
        #expect(quadratic > 100 * 10_000_000)
        #expect(try cost("self.all(x, self.exists_one(y, x == y))", bounded) < 2_000)
    }

    @Test func stringWorkScalesWithLength() throws {
        let long: JSON = ["type": "string"], short: JSON = ["type": "string", "maxLength": 100]
        #expect(try cost("self.contains('x')", long) > 300_000)
        #expect(try cost("self.contains('x')", short) < 20)
        let longMatch = try cost("self.matches('^[a-z]+$')", long), shortMatch = try cost("self.matches('^[a-z]+$')", short)
        #expect(longMatch > shortMatch)
    }
}
