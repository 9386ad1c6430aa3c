import APIMachinery
import Foundation
import Resources

/// upstream's MutatingAdmissionWebhook: each matching webhook of the mutating configurations,
/// one after another, its JSON patch applied to the object the next one sees; a webhook with
/// reinvocationPolicy IfNeeded is called once more when a later one changed the object.
public struct MutatingAdmissionWebhook: AdmissionPlugin {
    let configurations: AdmissionConfigurations
    let transport: any AdmissionWebhookTransport

    public init(configurations: AdmissionConfigurations, transport: any AdmissionWebhookTransport) {
        self.configurations = configurations
        self.transport = transport
    }

    public func admit(_ request: inout AdmissionRequest) async throws(StatusError) {
        guard !configurations.isEmpty(.mutating), !AdmissionWebhook.isExempt(request) else { return }
        var called: [(hook: AdmissionWebhook, changedAfter: Bool)] = []
        for spec in configurations.webhooks(.mutating) {
            let hook = AdmissionWebhook(spec: spec)
            guard let seen = try await hook.matching(request) else { continue }
            let changed = try await mutate(hook, seen, &request)
            if changed { for i in called.indices { called[i].changedAfter = true } }
            called.append((hook, false))
        }
        // Reinvocation: once, for those asking it whose view of the object is out of date.
        for (hook, changedAfter) in called where changedAfter && hook.spec["reinvocationPolicy"].string == "IfNeeded" {
            if let seen = try await hook.matching(request) { _ = try await mutate(hook, seen, &request) }
        }
    }

    /// Calls one webhook with the request as it `seen`s it and applies its patch to that form,
    /// converted back to the version the request was made in; whether the object changed.
    func mutate(_ hook: AdmissionWebhook, _ seen: AdmissionRequest, _ request: inout AdmissionRequest) async throws(StatusError) -> Bool {
        guard let answer = try await hook.call(seen, made: request.def, transport: transport), let encoded = answer["patch"].string,
              request.operation != .delete else { return false }
        guard answer["patchType"].string == "JSONPatch" else {
            throw .internalError("failed calling webhook \"\(hook.name)\": unsupported patch type \"\(answer["patchType"].string ?? "")\"")
        }
        guard let bytes = Data(base64Encoded: encoded), let patch = try? JSON.parse(bytes) else {
            throw .internalError("failed calling webhook \"\(hook.name)\": the patch is not base64 of JSON")
        }
        let patched: JSON
        do { patched = seen.def.convert(try JSONPatch.apply(patch, to: seen.object), to: request.def) } catch {
            throw .internalError("failed calling webhook \"\(hook.name)\": \(error.message)")
        }
        let changed = patched != request.object
        request.object = patched
        return changed
    }
}

/// upstream's ValidatingAdmissionWebhook: every matching webhook of the validating
/// configurations, called at once; the first refusal (in configuration order) refuses the write.
public struct ValidatingAdmissionWebhook: AdmissionPlugin {
    let configurations: AdmissionConfigurations
    let transport: any AdmissionWebhookTransport

    public init(configurations: AdmissionConfigurations, transport: any AdmissionWebhookTransport) {
        self.configurations = configurations
        self.transport = transport
    }

    public func validate(_ request: AdmissionRequest) async throws(StatusError) {
        guard !configurations.isEmpty(.validating), !AdmissionWebhook.isExempt(request) else { return }
        var hooks: [(AdmissionWebhook, AdmissionRequest)] = []
        for spec in configurations.webhooks(.validating) {
            let hook = AdmissionWebhook(spec: spec)
            if let seen = try await hook.matching(request) { hooks.append((hook, seen)) }
        }
        let transport = self.transport, made = request.def
        let outcomes = await withTaskGroup(of: (Int, StatusError?).self) { group in
            for (i, (hook, seen)) in hooks.enumerated() {
                group.addTask {
                    do throws(StatusError) { _ = try await hook.call(seen, made: made, transport: transport); return (i, nil) } catch { return (i, error) }
                }
            }
            var outcomes: [Int: StatusError] = [:]
            for await (i, error) in group { if let error { outcomes[i] = error } }
            return outcomes
        }
        if let first = outcomes.keys.min(), let error = outcomes[first] { throw error }
    }
}
