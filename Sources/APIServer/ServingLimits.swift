/// How much the API server takes on at once, with kube-apiserver's flags' names and defaults:
/// requests in flight (read-only and mutating apart, long-running ones not counted) and how
/// long a request that is not long-running may take.
public struct ServingLimits: Sendable {
    /// `--max-requests-inflight`: reads at once; 0 for no limit.
    public var maxRequestsInFlight = 400
    /// `--max-mutating-requests-inflight`: writes at once; 0 for no limit.
    public var maxMutatingRequestsInFlight = 200
    /// `--request-timeout`: the longest a request that is not long-running may take; `?timeout=`
    /// may ask for less.
    public var requestTimeout: Duration = .seconds(60)

    public init() {}
}
