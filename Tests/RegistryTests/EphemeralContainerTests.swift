import APIMachinery
import Resources
import Testing

/// Upstream's checks on the pods/ephemeralcontainers subresource, in its words.
struct EphemeralContainerTests {
    let pod: JSON = ["metadata": ["name": "web"],
                     "spec": ["containers": [["name": "main", "image": "busybox"]]]]

    func with(_ ephemeral: [JSON]) -> JSON {
        var p = pod
        p["spec"]["ephemeralContainers"] = .array(ephemeral)
        return p
    }

    func messages(_ new: JSON, _ old: JSON) -> [String] {
        PodValidation.ephemeralContainersUpdate(new, old).map { "\($0.field): \($0.body)" }
    }

    @Test func aDebuggerAsKubectlSendsItIsAccepted() {
        let debugger: JSON = ["name": "debugger-x1", "image": "busybox:1.35", "resources": .emptyObject, "stdin": true, "tty": true,
                              "targetContainerName": "main", "terminationMessagePolicy": "File"]
        #expect(messages(with([debugger]), pod).isEmpty)
    }

    @Test func whatAnEphemeralContainerMayNotHave() {
        let bad: JSON = ["name": "main", "image": "", "ports": [["containerPort": 80]], "targetContainerName": "nope"]
        #expect(messages(with([bad]), pod) == [
            "spec.ephemeralContainers[0].ports: Forbidden: cannot be set for an Ephemeral Container",
            "spec.ephemeralContainers[0].image: Required value",
            "spec.ephemeralContainers[0].name: Duplicate value: \"main\"",
            "spec.ephemeralContainers[0].targetContainerName: Not found: \"nope\"",
        ])
    }

    @Test func thoseAlreadyThereStayAsTheyAre() {
        let one: JSON = ["name": "debugger", "image": "busybox"]
        var changed = one
        changed["image"] = "alpine"
        #expect(messages(with([changed]), with([one])) == [
            "spec.ephemeralContainers: Forbidden: existing ephemeral containers \"debugger\" may not be changed"])
        #expect(messages(with([]), with([one])) == [
            "spec.ephemeralContainers: Forbidden: existing ephemeral containers \"debugger\" may not be removed"])
        #expect(messages(with([one, ["name": "second", "image": "busybox"]]), with([one])).isEmpty)
    }
}
