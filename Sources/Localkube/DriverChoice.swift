import Nodes

/// Which node driver a cluster gets when asked for `auto` (the default): containerd where the
/// machine can run real pods (Linux, root, containerd, runc and the CNI plugins present),
/// otherwise simulated nodes; with the reason, for the start step that says which.
public enum DriverChoice {
    public static let names = ["auto"] + ControlPlane.Options.Driver.allCases.map(\.rawValue)

    public struct Choice: Sendable {
        public var driver: ControlPlane.Options.Driver
        public var reason: String
    }

    public static func resolve(_ name: String, nodes: Int) throws(DriverError) -> Choice {
        if name != "auto" {
            guard let driver = ControlPlane.Options.Driver(rawValue: name) else {
                throw DriverError("unknown driver \"\(name)\": choose one of \(names.joined(separator: ", "))")
            }
            if driver == .containerd {
                if nodes > 1 { throw DriverError("the containerd driver runs one node (this machine); use --driver simulated for \(nodes) nodes") }
                if case .failure(let missing) = RuntimeRequirements.check() { throw DriverError("the containerd driver cannot run here: \(missing)") }
            }
            return Choice(driver: driver, reason: "")
        }
        if nodes > 1 { return Choice(driver: .simulated, reason: "\(nodes) nodes need the simulated driver") }
        switch RuntimeRequirements.check() {
        case .success: return Choice(driver: .containerd, reason: "containerd, runc and the CNI plugins are here")
        case .failure(let missing): return Choice(driver: .simulated, reason: missing.description)
        }
    }

    public struct DriverError: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }
}
