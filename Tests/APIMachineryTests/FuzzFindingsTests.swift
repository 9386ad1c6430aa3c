import APIMachinery
import Testing

// Inputs the fuzzers (Fuzz/, make fuzz) found to crash or break an invariant, kept as tests.

/// "100E" of memory is a valid quantity far beyond Int64: integers saturate instead of trapping
/// (one such pod stopped the whole process through the scheduler).
@Test func quantitiesBeyondInt64Saturate() {
    #expect(Quantity.milli(.string("1E")) == .max)
    #expect(Quantity.integer(.string("100E")) == .max)
    #expect(Quantity.integer(.string("-100E")) == .min)
    #expect(Quantity.integer(.string("1e999")) == .max)
    #expect(Quantity.integer(.string("1.5")) == 2, "rounded up, as upstream's Value()")
    #expect(Quantity.milli(.string("250m")) == 250)
    #expect(Int64.max.addingSaturated(1) == .max && Int64.min.subtractingSaturated(1) == .min)
    #expect(Int64(1 << 62).multipliedSaturated(by: -4) == .min)
}

/// A number beyond float64 is refused as Go refuses it, rather than stored and written back as null.
@Test func jsonNumbersBeyondFloat64AreRefused() throws {
    #expect(throws: JSONParseError.self) { try JSON.parse("{\"a\": 1e400}") }
    #expect(throws: JSONParseError.self) { try JSON.parse("-1e309") }
    #expect(try JSON.parse("1e308") == .double(1e308))
    #expect(try JSON.parse("99999999999999999999") == .double(1e20))
}

/// Whole numbers are written in digits up to 1e21, as Go writes a float64 (schemathesis sent
/// metadata.generation as -9.223372036854776e18, and it came back in exponent form, not an integer).
@Test func wholeDoublesAreWrittenInDigits() throws {
    #expect(JSON.double(-0x1p63).jsonString == "-9223372036854775808")
    #expect(JSON.double(1e20).jsonString == "100000000000000000000")
    #expect(JSON.double(1e21).jsonString == "1e+21")
    #expect(JSON.double(2.5).jsonString == "2.5")
    #expect(try JSON.parse(JSON.double(1e20).jsonString) == .double(1e20))
}
