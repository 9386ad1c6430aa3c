@testable import APIMachinery
import XCTest

/// Builds protobuf bytes the way Go's generated marshallers lay them out.
private struct Encoder {
    var bytes: [UInt8] = []

    mutating func varint(_ v: UInt64) {
        var v = v
        while v >= 0x80 { bytes.append(UInt8(v & 0x7f) | 0x80); v >>= 7 }
        bytes.append(UInt8(v))
    }
    mutating func key(_ n: Int, _ wire: UInt64) { varint(UInt64(n) << 3 | wire) }
    mutating func int(_ n: Int, _ v: Int64) { key(n, 0); varint(UInt64(bitPattern: v)) }
    mutating func bytes(_ n: Int, _ b: [UInt8]) { key(n, 2); varint(UInt64(b.count)); bytes += b }
    mutating func string(_ n: Int, _ s: String) { bytes(n, Array(s.utf8)) }
    mutating func message(_ n: Int, _ build: (inout Encoder) -> Void) {
        var inner = Encoder()
        build(&inner)
        bytes(n, inner.bytes)
    }
    mutating func entry(_ n: Int, _ k: String, _ v: String) { message(n) { $0.string(1, k); $0.string(2, v) } }

    static func envelope(apiVersion: String, kind: String, _ build: (inout Encoder) -> Void) -> [UInt8] {
        var e = Encoder()
        e.message(1) { $0.string(1, apiVersion); $0.string(2, kind) }
        e.message(2, build)
        return KubernetesProtobuf.magic + e.bytes
    }
}

final class KubernetesProtobufTests: XCTestCase {
    func testEveryReferencedMessageIsKnown() {
        for (name, fields) in ProtobufFields.messages {
            for field in fields.values {
                var type = field.type
                if case .map(_, let value) = type { type = value }
                if case .message(let target) = type {
                    XCTAssertTrue(ProtobufFields.messages[target] != nil || KubernetesProtobuf.specialTypeNames.contains(target),
                                  "\(name).\(field.name) refers to unknown \(target)")
                }
            }
        }
        XCTAssertNotNil(ProtobufFields.messages["core.v1.PodSpec"]?[2], "containers")
    }

    func testDeploymentAsKubectlCreateSendsIt() throws {
        let body = Encoder.envelope(apiVersion: "apps/v1", kind: "Deployment") { d in
            d.message(1) { m in
                m.string(1, "web"); m.string(2, ""); m.string(3, "")
                m.entry(11, "app", "web")
                m.message(8) { _ in }  // creationTimestamp: a zero Time
            }
            d.message(2) { spec in
                spec.int(1, 0)                      // replicas: a pointer, so an explicit 0 stays
                spec.message(2) { $0.entry(1, "app", "web") }
                spec.message(3) { t in
                    t.message(1) { $0.entry(11, "app", "web") }
                    t.message(2) { p in
                        p.message(2) { c in
                            c.string(1, "nginx"); c.string(2, "nginx:1.27")
                            c.string(3, "sleep"); c.string(3, "5")
                            c.message(6) { port in port.int(3, 80); port.string(4, "TCP"); port.int(2, 0) }
                            c.message(8) { _ in }   // resources: {}
                            c.int(16, 0)            // stdin: a Go bool value, false means unset
                        }
                    }
                }
                spec.message(4) { _ in }             // strategy: {}
                spec.int(5, 0)                       // minReadySeconds: a value, 0 is left out
            }
            d.message(3) { _ in }
        }
        let object = try KubernetesProtobuf.decode(body)
        XCTAssertEqual(object, try JSON.parse("""
            {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","labels":{"app":"web"}},
             "spec":{"replicas":0,"selector":{"matchLabels":{"app":"web"}},"strategy":{},
                     "template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[
                        {"name":"nginx","image":"nginx:1.27","command":["sleep","5"],"ports":[{"containerPort":80,"protocol":"TCP"}],"resources":{}}]}}},
             "status":{}}
            """))
    }

    func testSpecialTypesTakeTheirJSONForm() throws {
        let secret = Encoder.envelope(apiVersion: "v1", kind: "Secret") { s in
            s.message(1) { m in m.string(1, "s"); m.message(9) { $0.int(1, 1_700_000_000) } }
            s.message(2) { $0.string(1, "k"); $0.bytes(2, [0, 255, 104, 105]) }
            s.string(3, "Opaque")
        }
        let decoded = try KubernetesProtobuf.decode(secret)
        XCTAssertEqual(decoded["data"]["k"], "AP9oaQ==")
        XCTAssertEqual(decoded["metadata"]["deletionTimestamp"], "2023-11-14T22:13:20Z")

        let service = Encoder.envelope(apiVersion: "v1", kind: "Service") { s in
            s.message(2) { spec in
                spec.message(1) { p in p.int(3, 80); p.message(4) { $0.int(1, 0); $0.int(2, 8080) } }
                spec.message(1) { p in p.int(3, 81); p.message(4) { $0.int(1, 1); $0.string(3, "http") } }
            }
        }
        let ports = try KubernetesProtobuf.decode(service)["spec"]["ports"]
        XCTAssertEqual(ports, [["port": 80, "targetPort": 8080], ["port": 81, "targetPort": "http"]])

        let quota = Encoder.envelope(apiVersion: "v1", kind: "ResourceQuota") { q in
            q.message(2) { spec in spec.message(1) { e in e.string(1, "cpu"); e.message(2) { $0.string(1, "500m") } } }
        }
        XCTAssertEqual(try KubernetesProtobuf.decode(quota)["spec"]["hard"], ["cpu": "500m"])

        let options = Encoder.envelope(apiVersion: "v1", kind: "DeleteOptions") { o in
            o.int(1, 0); o.message(2) { $0.string(1, "abc") }; o.string(4, "Foreground")
        }
        XCTAssertEqual(try KubernetesProtobuf.decode(options), try JSON.parse("""
            {"apiVersion":"v1","kind":"DeleteOptions","gracePeriodSeconds":0,"preconditions":{"uid":"abc"},"propagationPolicy":"Foreground"}
            """))
    }

    func testBadBodiesAreErrorsNotCrashes() {
        XCTAssertThrowsError(try KubernetesProtobuf.decode(Array("{\"kind\":1}".utf8)))
        var valid = Encoder.envelope(apiVersion: "v1", kind: "ConfigMap") { $0.message(1) { $0.string(1, "c") } }
        // Cut anywhere: an error (or, at a field boundary, less data), never a crash.
        for cut in 4..<valid.count { _ = try? KubernetesProtobuf.decode(Array(valid[0..<cut])) }
        XCTAssertThrowsError(try KubernetesProtobuf.decode(Array(valid.dropLast())))
        XCTAssertThrowsError(try KubernetesProtobuf.decode(Array(valid[0..<10])))
        valid[valid.count - 3] = 0xff  // a length that runs past the end
        XCTAssertThrowsError(try KubernetesProtobuf.decode(valid))
        let wrongWire = Encoder.envelope(apiVersion: "v1", kind: "ConfigMap") { $0.int(1, 7) }
        XCTAssertThrowsError(try KubernetesProtobuf.decode(wrongWire))
        let custom = Encoder.envelope(apiVersion: "example.com/v1", kind: "Gadget") { _ in }
        XCTAssertThrowsError(try KubernetesProtobuf.decode(custom)) {
            XCTAssertEqual($0 as? KubernetesProtobuf.DecodeError, .unknownType(apiVersion: "example.com/v1", kind: "Gadget"))
        }
    }

    func testDurationsReadAsGoPrintsThem() {
        XCTAssertEqual(KubernetesProtobuf.goDuration(0), "0s")
        XCTAssertEqual(KubernetesProtobuf.goDuration(1_500), "1.5µs")
        XCTAssertEqual(KubernetesProtobuf.goDuration(250_000_000), "250ms")
        XCTAssertEqual(KubernetesProtobuf.goDuration(90_000_000_000), "1m30s")
        XCTAssertEqual(KubernetesProtobuf.goDuration(3_723_500_000_000), "1h2m3.5s")
        XCTAssertEqual(KubernetesProtobuf.goDuration(-2_000_000_000), "-2s")
    }
}
