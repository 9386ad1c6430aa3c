import CEL
import XCTest

/// Kubernetes' CEL libraries and the evaluation of rules as CRDs and policies write them.
final class KubernetesLibraryTests: XCTestCase {
    func check(_ expression: String, _ vars: [String: CELValue] = [:], file: StaticString = #filePath, line: UInt = #line) {
        do {
            let result = try CELProgram(expression, variables: Set(vars.keys)).evaluate(vars)
            guard case .bool(true) = result else { return XCTFail("\(expression) gave \(result.text)", file: file, line: line) }
        } catch {
            XCTFail("\(expression): \(error)", file: file, line: line)
        }
    }

    func testQuantities() {
        check("quantity('1Gi').isGreaterThan(quantity('1G'))")
        check("quantity('500m').asApproximateFloat() == 0.5")
        check("quantity('2').isInteger() && quantity('2').asInteger() == 2")
        check("quantity('1Ki').compareTo(quantity('1024')) == 0 && quantity('1Ki') == quantity('1024')")
        check("isQuantity('10Mi') && !isQuantity('ten')")
        check("quantity('1').add(quantity('2')).isLessThan(quantity('4'))")
    }

    func testURLsAndAddresses() {
        check("url('https://example.com:8443/a/b?x=1').getHostname() == 'example.com'")
        check("url('https://example.com:8443/a/b').getPort() == '8443' && url('https://example.com/a%20b').getEscapedPath() == '/a%20b'")
        check("url('https://x/?a=1&a=2').getQuery()['a'] == ['1', '2']")
        check("isIP('10.0.0.1') && !isIP('10.0.0.01') && ip('::1').isLoopback() && ip('10.0.0.1').family() == 4")
        check("cidr('10.0.0.0/8').containsIP('10.1.2.3') && !cidr('10.0.0.0/8').containsIP(ip('11.0.0.1'))")
        check("cidr('10.0.0.0/8').containsCIDR('10.1.0.0/16') && cidr('10.0.0.0/8').prefixLength() == 8")
    }

    func testRegexFind() {
        check("'abc 123 def 456'.find('[0-9]+') == '123'")
        check("'abc 123 def 456'.findAll('[0-9]+') == ['123', '456'] && 'a1b2c3'.findAll('[0-9]', 2) == ['1', '2']")
    }

    func testRulesOverObjects() {
        let object = CELValue.from(["spec": ["min": 1, "max": 3, "tags": ["a", "bb"]]])
        check("self.spec.min <= self.spec.max && self.spec.tags.all(t, t.size() < 3)", ["self": object])
        check("has(self.spec.min) && !has(self.spec.other) && self.spec.tags.exists_one(t, t == 'a')", ["self": object])
        check("self.spec.tags.map(t, t + '!') == ['a!', 'bb!'] && self.spec.tags.filter(t, t.size() > 1) == ['bb']", ["self": object])
        // An error on one side of || is absorbed by a true on the other.
        check("self.spec.missing == 1 || true", ["self": object])
    }
}
