import APIMachinery
import Foundation

/// The query parameters of a list or watch, parsed once by the transport.
public struct ListOptions: Sendable {
    public var labelSelector = LabelSelector.everything
    public var fieldSelector = FieldSelector()
    public var limit: Int?
    public var continueToken: String?
    public var resourceVersion: String?
    public var resourceVersionMatch: String?
    public var allowWatchBookmarks = false
    public var timeoutSeconds: Int?
    public var sendInitialEvents: Bool?
    public init() {}
}

/// dryRun, fieldManager and fieldValidation, which every write takes.
public struct WriteOptions: Sendable {
    public var dryRun = false
    public var fieldManager: String?
    public var fieldValidation: String?
    /// Keys the request body repeated, by path: fieldValidation treats them as unknown fields.
    public var duplicateFields: [String] = []
    public init(dryRun: Bool = false, fieldManager: String? = nil) {
        self.dryRun = dryRun
        self.fieldManager = fieldManager
    }
}

public struct DeleteOptions: Sendable {
    public var dryRun = false
    public var gracePeriodSeconds: Int64?
    public var propagationPolicy: String?
    public var preconditionUID: String?
    public var preconditionResourceVersion: String?
    public init() {}

    /// Reads a meta/v1 DeleteOptions body (kubectl and the client libraries send one).
    public mutating func merge(body: JSON) {
        if let g = body["gracePeriodSeconds"].int { gracePeriodSeconds = g }
        if let p = body["propagationPolicy"].string { propagationPolicy = p }
        if let uid = body["preconditions"]["uid"].string { preconditionUID = uid }
        if let rv = body["preconditions"]["resourceVersion"].string { preconditionResourceVersion = rv }
        if let d = body["dryRun"].array, d.contains(.string("All")) { dryRun = true }
        if body["orphanDependents"].bool == true, propagationPolicy == nil { propagationPolicy = "Orphan" }
    }
}

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
