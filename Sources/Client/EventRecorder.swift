import APIMachinery
import Foundation
import Synchronization

/// Records core/v1 Events about objects, as upstream's event recorder does: `kubectl describe`
/// and `kubectl get events` show them. Repeats of the same event within its series bump count
/// and lastTimestamp instead of adding objects.
public struct EventRecorder: Sendable {
    /// Series already recorded, by their Event's name (process-wide, as the kubelet's and
    /// controller manager's event caches are).
    static let series = Mutex<[String: String]>([:])

    let client: Client
    /// source.component and reportingComponent, e.g. `deployment-controller`.
    let component: String
    let host: String?

    public init(client: Client, component: String, host: String? = nil) {
        self.client = client
        self.component = component
        self.host = host
    }

    public func normal(_ object: JSON, _ reason: String, _ message: String) { record(object, "Normal", reason, message) }
    public func warning(_ object: JSON, _ reason: String, _ message: String) { record(object, "Warning", reason, message) }

    public func record(_ object: JSON, _ type: String, _ reason: String, _ message: String) {
        let meta = object["metadata"]
        let namespace = meta["namespace"].string.flatMap { $0.isEmpty ? nil : $0 } ?? "default"
        let name = meta["name"].string ?? ""
        // Named as upstream names them (object name, then the time in hex nanoseconds), so a
        // list in name order is in time order; the same object, reason and message form one
        // series: one Event, counted.
        let series = "\(meta["uid"].string ?? name)/\(type)/\(reason)/\(message)"
        let fresh = "\(name).\(String(UInt64(Date().timeIntervalSince1970 * 1e9), radix: 16))"
        let (eventName, repeated) = Self.series.withLock { known -> (String, Bool) in
            if let existing = known[series] { return (existing, true) }
            if known.count > 4096 { known.removeAll() }
            known[series] = fresh
            return (fresh, false)
        }
        let now = APITime.format(Date())
        var involved: JSON = ["kind": object["kind"], "namespace": meta["namespace"], "name": .string(name),
                              "uid": meta["uid"], "apiVersion": object["apiVersion"], "resourceVersion": meta["resourceVersion"]]
        if involved["namespace"].isNull { involved["namespace"] = nil }
        var source: JSON = ["component": .string(component)]
        if let host { source["host"] = .string(host) }
        let event: JSON = [
            "apiVersion": "v1", "kind": "Event",
            "metadata": ["name": .string(eventName), "namespace": .string(namespace)],
            "involvedObject": involved, "reason": .string(reason), "message": .string(message), "type": .string(type),
            "source": source, "firstTimestamp": .string(now), "lastTimestamp": .string(now), "count": 1,
            "reportingComponent": .string(component), "reportingInstance": .string(host ?? ""),
        ]
        let events = client.events
        Task {
            if repeated, (try? await events.modify(namespace, eventName, { e in
                e["count"] = .int((e["count"].int ?? 1) + 1)
                e["lastTimestamp"] = .string(now)
            })) != nil { return }
            _ = try? await events.create(namespace, event)
        }
    }
}
