import APIMachinery
import Cluster
@testable import DNS
import Foundation
import Resources

/// One parser or engine driven by libFuzzer. `run` must return for every input; a trap, a
/// crash or a broken invariant checked with `expect` is a finding.
struct FuzzTarget: Sendable {
    let name: String
    let run: @Sendable ([UInt8]) -> Void

    /// The targets `make fuzz` runs, each with a seed corpus in Fuzz/corpus/NAME.
    static let all: [FuzzTarget] = [
        FuzzTarget(name: "json") { bytes in
            // What the server decodes, it writes back as JSON that reads back to the same text
            // (1.0 is written 1, as Go writes it, so the trees may differ in number form only).
            guard let written = try? JSON.parse(bytes).serialized() else { return }
            expect((try? JSON.parse(written).serialized()) == written, "JSON does not survive a round trip")
        },
        FuzzTarget(name: "protobuf") { bytes in
            _ = try? KubernetesProtobuf.decode(bytes)
        },
        FuzzTarget(name: "yaml") { bytes in
            // YAML reaches Cubby as a kubeconfig; parse it as `cubby start` and `cubby delete` would.
            Kubeconfig.check(bytes)
        },
        FuzzTarget(name: "json-patch") { bytes in
            guard let (target, patch) = pair(bytes) else { return }
            _ = try? JSONPatch.apply(patch, to: target)
        },
        FuzzTarget(name: "merge-patch") { bytes in
            guard let (target, patch) = pair(bytes) else { return }
            // RFC 7386: applying the same merge patch twice changes nothing more.
            let once = MergePatch.apply(patch, to: target)
            expect(MergePatch.apply(patch, to: once) == once, "a merge patch is not idempotent")
        },
        FuzzTarget(name: "strategic-merge-patch") { bytes in
            guard let (target, patch) = pair(bytes) else { return }
            let smp = StrategicMergePatch(definitions: BuiltinResources.schemas)
            for schema in schemaNames { _ = try? smp.apply(patch, to: target, schemaName: schema) }
        },
        FuzzTarget(name: "server-side-apply") { bytes in
            guard let (live, applied) = pair(bytes) else { return }
            let typed = TypedFields(definitions: BuiltinResources.schemas)
            for schema in schemaNames {
                _ = StructuredMerge(typed: typed).merge(applied, into: live, schemaName: schema)
                _ = typed.fieldSet(of: applied, schemaName: schema)
            }
        },
        FuzzTarget(name: "label-selector") { bytes in
            // A parsed selector printed back parses to the same selector, as kubectl relies on.
            guard let selector = try? LabelSelector.parse(text(bytes)) else { return }
            expect((try? LabelSelector.parse(selector.description)) == selector, "a label selector does not survive a round trip")
        },
        FuzzTarget(name: "field-selector") { bytes in
            _ = try? FieldSelector.parse(text(bytes))
        },
        FuzzTarget(name: "quantity") { bytes in
            _ = Quantity.parse(text(bytes))
            _ = Quantity.milli(.string(text(bytes)))
        },
        FuzzTarget(name: "cron-schedule") { bytes in
            guard let schedule = try? CronSchedule(text(bytes)) else { return }
            // The next run is found (or known not to exist) without searching forever.
            _ = schedule.next(after: Date(timeIntervalSince1970: 1_800_000_000), in: TimeZone(identifier: "UTC")!)
        },
        FuzzTarget(name: "go-duration") { bytes in
            _ = GoDuration.parse(text(bytes))
        },
        FuzzTarget(name: "dns-message") { bytes in
            _ = try? MessageDecoder.decode(bytes)
            _ = MessageDecoder.questionType(bytes)
        },
    ]

    /// Kinds whose schemas give the patch engines their list keys and strategies.
    static let schemaNames: [String?] = [nil, "io.k8s.api.apps.v1.Deployment", "io.k8s.api.core.v1.Pod", "io.k8s.api.core.v1.ConfigMap"]

    /// Two documents from one input: a JSON array of the object and the patch.
    static func pair(_ bytes: [UInt8]) -> (JSON, JSON)? {
        guard case .array(let items)? = try? JSON.parse(bytes), items.count == 2 else { return nil }
        return (items[0], items[1])
    }

    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    /// A broken invariant stops the run, so libFuzzer keeps the input as a crash.
    static func expect(_ condition: Bool, _ message: String) {
        if !condition { fatalError(message) }
    }
}
