import Foundation

// The options of requests as meta/v1 defines them (ListOptions, the write options, DeleteOptions),
// parsed once by the transport and passed by in-process clients as they are.

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
    /// Who asks: the authenticated user of an API request; nil for the in-process components.
    public var user: UserInfo?
    /// A server-side apply: the managedFields it writes are never dropped to make the object fit.
    public var isApply = false
    public init(dryRun: Bool = false, fieldManager: String? = nil) {
        self.dryRun = dryRun
        self.fieldManager = fieldManager
    }
}

public struct DeleteOptions: Sendable {
    public var dryRun = false
    /// Who asked, for admission (webhooks are told); nil for in-process deletes.
    public var user: UserInfo?
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
