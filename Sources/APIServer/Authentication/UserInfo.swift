import APIMachinery

extension UserInfo {
    /// Upstream adds system:authenticated to everyone an authenticator recognised.
    func authenticated() -> UserInfo {
        var user = self
        if !user.groups.contains("system:authenticated") { user.groups.append("system:authenticated") }
        return user
    }

    /// Who a request presenting no credentials is (upstream's anonymous authenticator, on by
    /// default): authorization decides what it may do, health and version by default.
    static let anonymous = UserInfo(name: "system:anonymous", groups: ["system:unauthenticated"])

    /// The name a service account authenticates as, and its groups.
    static func serviceAccount(namespace: String, name: String, uid: String = "") -> UserInfo {
        UserInfo(name: "system:serviceaccount:\(namespace):\(name)", uid: uid,
                 groups: ["system:serviceaccounts", "system:serviceaccounts:\(namespace)"])
    }

    /// `system:serviceaccount:NS:NAME` split, when the name is a service account's.
    var serviceAccount: (namespace: String, name: String)? {
        let parts = name.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "system", parts[1] == "serviceaccount", !parts[2].isEmpty, !parts[3].isEmpty else { return nil }
        return (String(parts[2]), String(parts[3]))
    }
}
