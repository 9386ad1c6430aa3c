import APIMachinery
import Foundation
import Synchronization

/// Keeps `ClusterRecords` current from informer events. A change rebuilds only the records of
/// the one service key it touches; queries take the snapshot under a short lock.
final class ClusterRecordStore: Sendable {
    private struct State: Sendable {
        var services: [ServiceKey: ServiceInfo] = [:]
        /// Slices by `namespace/name`, and which belong to each service key.
        var slices: [String: SliceInfo] = [:]
        var slicesOf: [ServiceKey: Set<String>] = [:]
        var records: ClusterRecords

        mutating func rebuild(_ key: ServiceKey) {
            let slices = (slicesOf[key] ?? []).sorted().compactMap { self.slices[$0] }
            let service = services[key]
            records.replace(key, with: service == nil && slices.isEmpty ? nil : ServiceRecords(key: key, service: service, slices: slices))
        }
    }

    private let state: Mutex<State>

    init(records: ClusterRecords = ClusterRecords(serial: ClusterRecordStore.now())) {
        state = Mutex(State(records: records))
    }

    var snapshot: ClusterRecords { state.withLock { $0.records } }

    static func now() -> UInt32 { UInt32(clamping: Int(Date().timeIntervalSince1970)) }

    func markSynced() { state.withLock { $0.records.synced = true } }

    func upsertService(_ object: JSON) {
        guard let service = ServiceInfo(object) else { return }
        let key = ServiceKey(namespace: service.namespace, name: service.name)
        state.withLock { state in
            guard state.services[key] != service else { return }
            state.services[key] = service
            state.rebuild(key)
            state.records.serial = Self.now()
        }
    }

    func removeService(_ object: JSON) {
        guard let service = ServiceInfo(object) else { return }
        let key = ServiceKey(namespace: service.namespace, name: service.name)
        state.withLock { state in
            guard state.services.removeValue(forKey: key) != nil else { return }
            state.rebuild(key)
            state.records.serial = Self.now()
        }
    }

    func upsertSlice(_ object: JSON) {
        let id = Self.sliceID(object)
        let slice = SliceInfo(object)
        state.withLock { state in
            let old = state.slices[id]
            guard old != slice else { return }
            if let old { state.slicesOf[old.service]?.remove(id) }
            state.slices[id] = slice
            if let slice { state.slicesOf[slice.service, default: []].insert(id) }
            if let old, old.service != slice?.service { state.rebuild(old.service) }
            if let slice { state.rebuild(slice.service) }
            state.records.serial = Self.now()
        }
    }

    func removeSlice(_ object: JSON) {
        let id = Self.sliceID(object)
        state.withLock { state in
            guard let old = state.slices.removeValue(forKey: id) else { return }
            state.slicesOf[old.service]?.remove(id)
            if state.slicesOf[old.service]?.isEmpty == true { state.slicesOf[old.service] = nil }
            state.rebuild(old.service)
            state.records.serial = Self.now()
        }
    }

    func setNamespace(_ object: JSON, exists: Bool) {
        guard let name = object["metadata"]["name"].string else { return }
        state.withLock { $0.records.setNamespace(name.lowercased(), exists: exists) }
    }

    private static func sliceID(_ object: JSON) -> String {
        "\(object["metadata"]["namespace"].string ?? "")/\(object["metadata"]["name"].string ?? "")"
    }
}
