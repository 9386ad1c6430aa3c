import APIMachinery
import Foundation
import Storage
import Synchronization

/// The objects the registry has just written, as trees, by key and revision: the informers and
/// the garbage collector in this process read each write back from their watches within
/// moments, and find it here instead of parsing the stored bytes again. A few hundred entries
/// cover that window; older ones are simply parsed.
final class DecodedObjects: Sendable {
    static let capacity = 512

    struct State {
        var objects: [String: JSON] = [:]
        var order: [String] = []
        var head = 0
    }

    let state = Mutex(State())

    static func id(_ key: String, _ revision: Int64) -> String { "\(revision)\u{0}\(key)" }

    func remember(_ object: JSON, key: String, revision: Int64) {
        let id = Self.id(key, revision)
        state.withLock { s in
            if s.order.count < Self.capacity {
                s.order.append(id)
            } else {
                s.objects[s.order[s.head]] = nil
                s.order[s.head] = id
                s.head = (s.head + 1) % Self.capacity
            }
            s.objects[id] = object
        }
    }

    func object(key: String, revision: Int64) -> JSON? {
        state.withLock { $0.objects[Self.id(key, revision)] }
    }
}
