import APIMachinery
import XCTest

final class IntOrStringTests: XCTestCase {
    func testScaledValuesRoundAsAsked() {
        XCTAssertEqual(IntOrString.scaledValue(3, total: 10, roundUp: true), 3)
        XCTAssertEqual(IntOrString.scaledValue("25%", total: 10, roundUp: true), 3)
        XCTAssertEqual(IntOrString.scaledValue("25%", total: 10, roundUp: false), 2)
        XCTAssertEqual(IntOrString.scaledValue("50%", total: 3, roundUp: true), 2)
        XCTAssertNil(IntOrString.scaledValue("5", total: 10, roundUp: true), "a number in a string is no percentage")
        XCTAssertNil(IntOrString.scaledValue("-5%", total: 10, roundUp: true))
    }

    func testValidationSaysWhatUpstreamSays() {
        XCTAssertEqual(IntOrString.errors(2, "spec.minAvailable"), [])
        XCTAssertEqual(IntOrString.errors("100%", "spec.minAvailable"), [])
        XCTAssertEqual(IntOrString.errors(-1, "spec.minAvailable").map(\.detail), ["must be greater than or equal to 0"])
        XCTAssertEqual(IntOrString.errors("101%", "spec.minAvailable").map(\.detail), ["must not be greater than 100%"])
        XCTAssertEqual(IntOrString.errors("half", "spec.minAvailable").map(\.detail), [
            "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%', or '93%', regex used for validation is '[0-9]+%')"])
    }
}
