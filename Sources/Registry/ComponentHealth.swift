import Synchronization

/// The control plane's components as `kubectl get componentstatuses` reports them, upstream's
/// deprecated but still served view: a loop (the scheduler, the controller manager) is healthy
/// while it runs; the store while it answers a read.
public final class ComponentHealth: Sendable {
    enum State: Sendable {
        case loop(stopped: String?)
        case probe(@Sendable () async -> String?)
    }

    let components = Mutex<[(name: String, state: State)]>([])

    public init() {}

    /// A component whose health is its loop running, from now until `stopped`.
    public func running(_ name: String) { set(name, .loop(stopped: nil)) }

    public func stopped(_ name: String, _ reason: String) { set(name, .loop(stopped: reason)) }

    /// A component whose health is asked when someone asks: nil when healthy, else the error.
    public func probe(_ name: String, _ check: @escaping @Sendable () async -> String?) { set(name, .probe(check)) }

    func set(_ name: String, _ state: State) {
        components.withLock { all in
            if let i = all.firstIndex(where: { $0.name == name }) { all[i].state = state } else { all.append((name, state)) }
        }
    }

    /// One component's error (nil when healthy, or unknown), its probe alone run.
    public func error(of name: String) async -> String? {
        switch components.withLock({ $0.first { $0.name == name }?.state }) {
        case .loop(let stopped)?: return stopped
        case .probe(let check)?: return await check()
        case nil: return nil
        }
    }

    /// Each component by name with its error (nil when healthy), in the order they registered.
    public func statuses() async -> [(name: String, error: String?)] {
        var out: [(name: String, error: String?)] = []
        for (name, state) in components.withLock({ $0 }) {
            switch state {
            case .loop(let stopped): out.append((name, stopped))
            case .probe(let check): out.append((name, await check()))
            }
        }
        return out
    }
}
