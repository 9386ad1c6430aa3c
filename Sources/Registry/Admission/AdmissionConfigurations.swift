import APIMachinery
import Resources
import Synchronization

/// The configurations of dynamic admission (webhook configurations, admission policies and their
/// bindings), kept in memory from a watch of each kind (upstream's plugins read them from
/// informers): no store read on the write path, and a configuration takes effect as soon as its
/// watch event arrives.
public final class AdmissionConfigurations: Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        case mutating = "mutatingwebhookconfigurations", validating = "validatingwebhookconfigurations"
        case validatingPolicies = "validatingadmissionpolicies", validatingBindings = "validatingadmissionpolicybindings"
        case mutatingPolicies = "mutatingadmissionpolicies", mutatingBindings = "mutatingadmissionpolicybindings"
    }

    let configurations = Mutex<[Kind: [String: JSON]]>([:])

    public init() {}

    /// Each webhook of `kind`, in upstream's order: configurations
    /// by name, webhooks in their order within one.
    func webhooks(_ kind: Kind) -> [JSON] {
        objects(kind).flatMap { $0["webhooks"].array ?? [] }
    }

    func isEmpty(_ kind: Kind) -> Bool { configurations.withLock { $0[kind]?.isEmpty ?? true } }

    /// The objects of `kind` by name, in name order.
    func objects(_ kind: Kind) -> [JSON] {
        let all = configurations.withLock { $0[kind] ?? [:] }
        return all.keys.sorted().compactMap { all[$0] }
    }

    func object(_ kind: Kind, _ name: String) -> JSON? { configurations.withLock { $0[kind]?[name] } }

    /// Follows both kinds until cancelled, from the whole state at every (re)start of a watch (a
    /// snapshot restore ends every watch).
    public func run(_ registry: Registry) async {
        await withTaskGroup(of: Void.self) { group in
            for kind in Kind.allCases {
                group.addTask { await self.follow(kind, registry) }
            }
        }
    }

    func follow(_ kind: Kind, _ registry: Registry) async {
        guard let def = registry.catalog.lookup(group: "admissionregistration.k8s.io", version: "v1", plural: kind.rawValue) else { return }
        var options = ListOptions()
        options.sendInitialEvents = true
        options.resourceVersionMatch = "NotOlderThan"
        options.allowWatchBookmarks = true
        while !Task.isCancelled {
            guard let events = try? await registry.watch(def, namespace: nil, options: options) else { return }
            var initial: [String: JSON]? = [:]
            for await event in events {
                if event.type == "BOOKMARK" {
                    if let seen = initial, event.object["metadata"]["annotations"]["k8s.io/initial-events-end"].string == "true" {
                        configurations.withLock { $0[kind] = seen }
                        initial = nil
                    }
                    continue
                }
                guard let name = event.object["metadata"]["name"].string else { continue }
                let object: JSON? = event.type == "DELETED" ? nil : event.object
                if initial != nil { initial?[name] = object; continue }
                configurations.withLock { $0[kind, default: [:]][name] = object }
            }
        }
    }
}
