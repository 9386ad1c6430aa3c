import APIMachinery
import Synchronization

/// Whether a user may do something, asked below the API layer: what admission checks beyond the
/// request's own authorization (upstream's CertificateApproval asks whether the user may
/// `approve` for the request's signer). The API server installs its authorizer when it starts;
/// until then (and for writes of no API request) nothing is asked.
public protocol AccessReviewer: Sendable {
    func allows(_ user: UserInfo, verb: String, group: String, resource: String, namespace: String, name: String) async -> Bool
}

public final class AccessReview: Sendable {
    let reviewer = Mutex<(any AccessReviewer)?>(nil)

    public init() {}

    public func install(_ reviewer: any AccessReviewer) { self.reviewer.withLock { $0 = reviewer } }

    /// nil when no authorizer is installed.
    public func allows(_ user: UserInfo, verb: String, group: String, resource: String, namespace: String = "", name: String = "") async -> Bool? {
        guard let reviewer = reviewer.withLock({ $0 }) else { return nil }
        return await reviewer.allows(user, verb: verb, group: group, resource: resource, namespace: namespace, name: name)
    }
}
