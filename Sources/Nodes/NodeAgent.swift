import APIMachinery

/// The node side of a cluster (DESIGN rule 6): registers its nodes, keeps their leases fresh and
/// runs the pods bound to them, reporting pod status. The simulated agent (no processes, as
/// kwok) and the kubelet (containers through CRI) are interchangeable to everything else.
public protocol NodeAgent: Sendable {
    /// The nodes this agent registers.
    var nodeNames: [String] { get }
    /// Runs until the task is cancelled.
    func run() async
}

/// What a node is made with, whichever agent runs it.
public struct NodeShape: Sendable {
    public var cpu: String
    public var memory: String
    public var pods: Int
    public var ephemeralStorage: String

    public init(cpu: String = "8", memory: String = "16Gi", pods: Int = 110, ephemeralStorage: String = "100Gi") {
        self.cpu = cpu
        self.memory = memory
        self.pods = pods
        self.ephemeralStorage = ephemeralStorage
    }
}
