import APIMachinery
import Foundation

/// A list page's continue token: the revision the first page was read at and the key to resume
/// after, so later pages read the same snapshot.
struct ContinueToken: Equatable {
    var revision: Int64
    var startAfter: String

    func encoded() -> String {
        let json: JSON = ["v": "meta.k8s.io/v1", "rv": .int(revision), "start": .string(startAfter)]
        return Data(json.serialized()).base64EncodedString()
    }

    static func decode(_ token: String) throws(StatusError) -> ContinueToken {
        guard let data = Data(base64Encoded: token), let json = try? JSON.parse(data),
              let rv = json["rv"].int, let start = json["start"].string, json["v"].string == "meta.k8s.io/v1"
        else { throw StatusError.badRequest("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)") }
        return ContinueToken(revision: rv, startAfter: start)
    }
}
