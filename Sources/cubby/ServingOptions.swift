import APIMachinery
import APIServer
import ArgumentParser

/// kube-apiserver's flags for how much it takes on at once, with its names and defaults.
struct ServingOptions: ParsableArguments {
    @Option(name: .customLong("max-requests-inflight"), help: "Read-only requests served at once (not counting long-running ones); beyond it, 429. 0: no limit.")
    var maxRequestsInFlight = ServingLimits().maxRequestsInFlight

    @Option(name: .customLong("max-mutating-requests-inflight"), help: "Mutating requests served at once; beyond it, 429. 0: no limit.")
    var maxMutatingRequestsInFlight = ServingLimits().maxMutatingRequestsInFlight

    @Option(name: .customLong("request-timeout"), help: "The longest a request that is not long-running may take (a duration: 60s, 1m30s).")
    var requestTimeout = "60s"

    func validate() throws {
        guard maxRequestsInFlight >= 0 else { throw ValidationError("--max-requests-inflight must not be negative") }
        guard maxMutatingRequestsInFlight >= 0 else { throw ValidationError("--max-mutating-requests-inflight must not be negative") }
        guard let timeout = GoDuration.parse(requestTimeout), timeout > .zero else {
            throw ValidationError("--request-timeout must be a positive duration, such as 60s")
        }
    }

    var limits: ServingLimits {
        var limits = ServingLimits()
        limits.maxRequestsInFlight = maxRequestsInFlight
        limits.maxMutatingRequestsInFlight = maxMutatingRequestsInFlight
        limits.requestTimeout = GoDuration.parse(requestTimeout) ?? limits.requestTimeout
        return limits
    }
}
