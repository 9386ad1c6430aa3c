/// Who is asking, as upstream's authenticators decide it (user.Info).
public struct UserInfo: Sendable, Equatable {
    public var name: String
    public var uid: String
    public var groups: [String]
    public var extra: [String: [String]]

    public init(name: String, uid: String = "", groups: [String], extra: [String: [String]] = [:]) {
        self.name = name
        self.uid = uid
        self.groups = groups
        self.extra = extra
    }

    /// authentication.k8s.io/v1 UserInfo, as TokenReview and SelfSubjectReview show it.
    public var json: JSON {
        var o: JSON = ["username": .string(name), "groups": .array(groups.map { .string($0) })]
        if !uid.isEmpty { o["uid"] = .string(uid) }
        if !extra.isEmpty { o["extra"] = .object(extra.mapValues { .array($0.map { .string($0) }) }) }
        return o
    }
}
