import APIMachinery
import CRI
import Client
import Foundation

/// The kubelet's image manager: a container's image made present as its imagePullPolicy says
/// (Always, IfNotPresent, Never), pulled through CRI with the pod's imagePullSecrets as
/// credentials, with upstream's per-image pull back-off (10 s doubling to 5 min) and its events
/// and waiting reasons: ErrImagePull, then ImagePullBackOff, or ErrImageNeverPull.
struct ImageManager: Sendable {
    let runtime: RuntimeConnection
    let client: Client

    enum Outcome {
        case success(String)
        case failure(KubeletState.Waiting)
    }

    /// The image's reference (its id) once present, or why the container must wait.
    func ensure(_ pod: JSON, _ container: JSON, state: KubeletState, events: EventRecorder) async -> Outcome {
        let uid = pod["metadata"]["uid"].string ?? ""
        let image = container["image"].string ?? ""
        let policy = container["imagePullPolicy"].string ?? "IfNotPresent"
        let present = try? await runtime.images.imageStatus(.with { $0.image.image = image })
        if let present, present.hasImage, policy != "Always" {
            events.normal(pod, "Pulled", "Container image \"\(image)\" already present on machine and can be accessed by the pod")
            return .success(present.image.id)
        }
        if policy == "Never" {
            let message = "Container image \"\(image)\" is not present with pull policy of Never"
            events.warning(pod, "ErrImageNeverPull", message)
            events.warning(pod, "Failed", "Error: ErrImageNeverPull")
            return .failure(.init(reason: "ErrImageNeverPull", message: message))
        }
        // Within the back-off after a failed pull, no new pull is tried.
        let previous = await state.waiting(uid, container["name"].string ?? "")
        if let previous, previous.reason == "ErrImagePull" || previous.reason == "ImagePullBackOff",
           let wait = await state.pullDelay(uid, image, failedAt: previous.failedAt) {
            events.normal(pod, "BackOff", "Back-off pulling image \"\(image)\"")
            events.warning(pod, "Failed", "Error: ImagePullBackOff")
            let cause = previous.message.hasPrefix("Back-off pulling image") ? previous.cause : previous.message
            var waiting = KubeletState.Waiting(reason: "ImagePullBackOff", message: "Back-off pulling image \"\(image)\": ErrImagePull: \(cause)")
            waiting.failedAt = previous.failedAt
            waiting.cause = cause
            waiting.retryAfter = wait
            return .failure(waiting)
        }
        events.normal(pod, "Pulling", "Pulling image \"\(image)\"")
        let started = ContinuousClock.now
        do {
            let auth = await credentials(pod, image)
            let ref = try await runtime.images.pullImage(.with {
                $0.image.image = image
                if let auth { $0.auth = auth }
            }).imageRef
            await state.pullSucceeded(uid, image)
            let seconds = Double((ContinuousClock.now - started).components.attoseconds) / 1e18 + Double((ContinuousClock.now - started).components.seconds)
            let size = (try? await runtime.images.imageStatus(.with { $0.image.image = image }).image.size) ?? 0
            let took = String(format: "%.3fs", seconds)
            events.normal(pod, "Pulled", "Successfully pulled image \"\(image)\" in \(took) (\(took) including waiting). Image size: \(size) bytes.")
            return .success(ref)
        } catch {
            let message = Kubelet.describe(error)
            await state.pullFailed(uid, image)
            events.warning(pod, "Failed", "Failed to pull image \"\(image)\": \(message)")
            events.warning(pod, "Failed", "Error: ErrImagePull")
            var waiting = KubeletState.Waiting(reason: "ErrImagePull", message: message)
            waiting.failedAt = Date()
            waiting.cause = message
            waiting.retryAfter = await state.pullDelay(uid, image, failedAt: waiting.failedAt)
            return .failure(waiting)
        }
    }

    /// The first of the pod's imagePullSecrets (dockerconfigjson or dockercfg) with an entry
    /// for the image's registry.
    func credentials(_ pod: JSON, _ image: String) async -> Runtime_V1_AuthConfig? {
        let namespace = pod["metadata"]["namespace"].string ?? "default"
        let registry = Self.registry(of: image)
        for ref in pod["spec"]["imagePullSecrets"].array ?? [] {
            guard let name = ref["name"].string, let secret = try? await client.resource("", "v1", "secrets").get(namespace, name) else { continue }
            let raw = secret["data"][".dockerconfigjson"].string ?? secret["data"][".dockercfg"].string
            guard let raw, let data = Data(base64Encoded: raw), let config = try? JSON.parse(Array(data)) else { continue }
            let auths = config["auths"].isNull ? config : config["auths"]
            for (server, entry) in auths.object ?? [:] where Self.registry(of: server) == registry || server == registry {
                return .with {
                    $0.username = entry["username"].string ?? ""
                    $0.password = entry["password"].string ?? ""
                    $0.auth = entry["auth"].string ?? ""
                    $0.serverAddress = server
                }
            }
        }
        return nil
    }

    /// The registry host of an image or server reference; Docker Hub for bare names.
    static func registry(of reference: String) -> String {
        var s = reference
        for scheme in ["https://", "http://"] where s.hasPrefix(scheme) { s.removeFirst(scheme.count) }
        let first = String(s.split(separator: "/").first ?? "")
        guard s.contains("/"), first.contains(".") || first.contains(":") || first == "localhost" else { return "docker.io" }
        return first == "index.docker.io" || first == "registry-1.docker.io" ? "docker.io" : first
    }
}
