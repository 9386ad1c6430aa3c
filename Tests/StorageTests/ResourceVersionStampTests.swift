import Foundation
@testable import Storage
import Testing

/// Objects in etcd carry no resourceVersion; reads put the key's mod_revision into metadata.
struct ResourceVersionStampTests {
    func stamped(_ json: String, _ rev: Int64 = 42) -> String {
        String(decoding: ResourceVersionStamp.stamp(Data(json.utf8), revision: rev), as: UTF8.self)
    }

    @Test func goesFirstIntoTopLevelMetadata() {
        #expect(stamped(#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"}}"#)
                == #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"resourceVersion":"42","name":"a"}}"#)
        #expect(stamped(#"{"metadata":{}}"#) == #"{"metadata":{"resourceVersion":"42"}}"#)
    }

    @Test func skipsLookalikesInEarlierFields() throws {
        // A "metadata" key inside data, strings with quotes, braces and escapes: only the top level counts.
        let json = #"{"data":{"metadata":{"x":"}\"{"},"s":"\"metadata\":{"},"list":[{"metadata":{}}],"n":1,"metadata":{"name":"b"}}"#
        #expect(stamped(json, 7) == json.replacingOccurrences(of: #""metadata":{"name""#, with: #""metadata":{"resourceVersion":"7","name""#))
        #expect(try JSONSerialization.jsonObject(with: Data(stamped(json, 7).utf8)) is [String: Any])
    }

    @Test func leavesWhatIsNotAnObjectWithMetadata() {
        for json in [#"[1,2]"#, #"{"kind":"X"}"#, #"{"metadata":"text"}"#, #"{"broken":"#] {
            #expect(stamped(json) == json)
        }
    }

    func restamped(_ json: String, _ rev: Int64 = 42) -> String {
        String(decoding: ResourceVersionStamp.restamp(Data(json.utf8), revision: rev), as: UTF8.self)
    }

    /// A restored snapshot's objects take new revisions: the one they carry is replaced in place.
    @Test func restampReplacesTheTopLevelResourceVersionOnly() {
        let json = #"{"spec":{"resourceVersion":"1","metadata":{"resourceVersion":"2"}},"metadata":{"name":"a","resourceVersion":"17","uid":"u"}}"#
        #expect(restamped(json, 123456) == #"{"spec":{"resourceVersion":"1","metadata":{"resourceVersion":"2"}},"metadata":{"name":"a","resourceVersion":"123456","uid":"u"}}"#)
        #expect(restamped(#"{"metadata":{"name":"a"}}"#) == #"{"metadata":{"resourceVersion":"42","name":"a"}}"#)
        #expect(restamped(#"{"metadata" : { "resourceVersion" : "9" } }"#) == #"{"metadata" : { "resourceVersion" : "42" } }"#)
        #expect(restamped(#"{"kind":"X"}"#) == #"{"kind":"X"}"#)
    }
}
