import APIMachinery
import Testing

/// `?timeout=` takes what Go's time.ParseDuration takes, and nothing else.
@Test func goDurationsParseAsGoParsesThem() {
    #expect(GoDuration.parse("30s") == .seconds(30))
    #expect(GoDuration.parse("1m30s") == .seconds(90))
    #expect(GoDuration.parse("1.5h") == .seconds(5400))
    #expect(GoDuration.parse("250ms") == .milliseconds(250))
    #expect(GoDuration.parse("10us") == .microseconds(10))
    #expect(GoDuration.parse("0") == .zero)
    #expect(GoDuration.parse("-2s") == .seconds(-2))
    for invalid in ["", "30", "s", "1x", "1.2.3s", ".s", "soon", "5 s", "-"] {
        #expect(GoDuration.parse(invalid) == nil, "\(invalid)")
    }
}
