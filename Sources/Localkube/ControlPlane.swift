import APIMachinery
import APIServer
import Foundation
import Logging
import Registry
import Resources
import Storage
import Client
import Controllers
import Nodes
import Scheduler

/// Builds and runs every component of one cluster in this process: storage, registry, API
/// server, and the loops beside them (CRD serving, namespace finalization, compaction).
public struct ControlPlane: Sendable {
    public struct Options: Sendable {
        public var dataDirectory: URL
        public var port: Int
        public var bindAddress: String
        public var compactionInterval: Duration
        public var clusterName: String
        /// How many nodes the node agent registers, and which agent runs them.
        public var nodes: Int
        public var driver: Driver
        /// How long a node may miss heartbeats before node lifecycle marks it NotReady.
        public var nodeMonitorGracePeriod: Duration

        public enum Driver: String, Sendable, CaseIterable {
            /// Nodes whose pods run no processes (as kwok).
            case simulated
            /// No nodes: the control plane alone.
            case none
        }

        public init(dataDirectory: URL, port: Int = 8443, bindAddress: String = "127.0.0.1",
                    compactionInterval: Duration = .seconds(300), clusterName: String = "cubby",
                    nodes: Int = 1, driver: Driver = .simulated, nodeMonitorGracePeriod: Duration = .seconds(40)) {
            self.nodeMonitorGracePeriod = nodeMonitorGracePeriod
            self.nodes = nodes
            self.driver = driver
            self.dataDirectory = dataDirectory
            self.port = port
            self.bindAddress = bindAddress
            self.compactionInterval = compactionInterval
            self.clusterName = clusterName
        }
    }

    public static let version = "0.1.0"

    let options: Options
    let logger: Logger

    public init(options: Options) {
        self.options = options
        var logger = Logger(label: "localkube")
        // CUBBY_LOG_LEVEL=debug shows what controllers retry, and why.
        logger.logLevel = ProcessInfo.processInfo.environment["CUBBY_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .notice
        self.logger = logger
    }

    public func run() async throws {
        let dir = options.dataDirectory
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let pki = try SelfSignedPKI.loadOrCreate(in: dir.appendingPathComponent("pki"))
        let token = try Self.loadOrCreateToken(dir.appendingPathComponent("token"))
        let users = try LocalCredentials.loadOrCreate(in: dir, adminToken: token)

        let store = try SQLiteStore(path: dir.appendingPathComponent("state.db").path)
        let catalog = ResourceCatalog(builtin: ScratchResources.all + ApiextensionsV1.resources + ReviewResources.resources + PolicyV1.resources,
                                      schemas: ScratchResources.schemas.merging(ApiextensionsV1.schemas) { a, _ in a }
                                          .merging(ReviewResources.schemas) { a, _ in a }.merging(PolicyV1.schemas) { a, _ in a })
        let serviceIPs = ServiceIPAllocator()
        let registry = Registry(store: store, catalog: catalog, admission: [serviceIPs, DefaultTolerationSeconds()])
        try await bootstrap(registry, serviceIPs)

        let loops = [
            Task { await CustomResourceSync(registry: registry).run() },
            Task { await ClusterRoleAggregation(registry: registry).run() },
            Task { await Self.compact(store, every: options.compactionInterval) },
        ] + startComponents(registry, caPEM: pki.caPEM)
        // Wait for CRDs stored earlier to be served again before taking requests.
        for _ in 0..<100 where try await crdsPending(registry) { try await Task.sleep(for: .milliseconds(10)) }

        let server = APIServer(registry: registry, configuration: .init(
            bindAddress: options.bindAddress, port: options.port,
            certificatePEM: Array(pki.certificatePEM.utf8), privateKeyPEM: Array(pki.keyPEM.utf8),
            tokens: users.tokens, passwords: users.passwords, clientCAPEM: Array(pki.caPEM.utf8),
            serviceAccountKeyPEM: pki.serviceAccountKeyPEM, version: Self.version), logger: logger)
        let kubeconfigURL = dir.appendingPathComponent("kubeconfig")
        let name = options.clusterName, bind = options.bindAddress, ca = pki.caPEM
        let credentials: AdminKubeconfig.Credentials = if let cert = pki.adminCertificatePEM, let key = pki.adminKeyPEM {
            .clientCertificate(cert: cert, key: key)
        } else {
            .token(token)
        }
        let log = logger
        try await server.run { port in
            let host = bind == "0.0.0.0" ? "127.0.0.1" : bind
            await KubernetesService.reconcile(registry, address: host, port: port)
            let config = AdminKubeconfig.render(name: name, server: "https://\(host):\(port)", caPEM: ca, credentials: credentials)
            do { try AtomicFile.write(config, to: kubeconfigURL, mode: 0o600) } catch {
                log.error("cannot write \(kubeconfigURL.path): \(error)")
            }
            log.notice("localkube serving on https://\(host):\(port)")
        }
        for loop in loops { loop.cancel() }
        await store.close()
    }

    /// The controller manager, scheduler and node agent: each a loop over shared informers, all
    /// writing through the in-process client.
    func startComponents(_ registry: Registry, caPEM: String) -> [Task<Void, Never>] {
        let informers = InformerFactory(client: Client(registry: registry, fieldManager: "kube-controller-manager"))
        let manager = Client(registry: registry, fieldManager: "kube-controller-manager")
        var controllers: [any Controller] = [
            ReplicaSetController.replicaSets(client: manager, informers: informers),
            ReplicaSetController.replicationControllers(client: manager, informers: informers),
            DeploymentController(client: manager, informers: informers),
            GarbageCollector(client: manager),
            JobController(client: manager, informers: informers),
            StatefulSetController(client: manager, informers: informers),
            DaemonSetController(client: manager, informers: informers),
            CronJobController(client: manager, informers: informers),
            NodeLifecycleController(client: manager, informers: informers, gracePeriod: options.nodeMonitorGracePeriod),
            DisruptionController(client: manager, informers: informers),
            NamespaceController(client: manager, informers: informers),
            ServiceAccountsController(client: manager, informers: informers),
            RootCACertPublisher(client: manager, informers: informers, caPEM: caPEM),
            EndpointsController(client: manager, informers: informers),
            EndpointSliceController(client: manager, informers: informers),
            PersistentVolumeController(client: manager, informers: informers, directory: options.dataDirectory.appendingPathComponent("volumes")),
            Scheduler(client: Client(registry: registry, fieldManager: "kube-scheduler"), informers: informers),
        ]
        var agents: [any NodeAgent] = []
        if options.driver == .simulated && options.nodes > 0 {
            let agent = SimulatedNodes(client: Client(registry: registry, fieldManager: "kubelet"), informers: informers,
                                       names: Self.nodeNames(options.clusterName, count: options.nodes), kubeletVersion: "v1.37.0",
                                       renewInterval: min(.seconds(10), options.nodeMonitorGracePeriod / 4))
            agents.append(agent)
            controllers.append(agent)
        }
        let log = logger
        var tasks = informers.start()
        tasks += controllers.filter { !($0 is any NodeAgent) }.map { c in Task { await c.run(logger: log) } }
        tasks += agents.map { a in Task { await a.run() } }
        return tasks
    }

    /// minikube's node names: the profile, then PROFILE-m02, PROFILE-m03, ...
    static func nodeNames(_ cluster: String, count: Int) -> [String] {
        (0..<count).map { i -> String in
            let n = String(i + 1)
            return i == 0 ? cluster : "\(cluster)-m\(n.count < 2 ? "0" + n : n)"
        }
    }

    static func loadOrCreateToken(_ url: URL) throws -> String {
        if let t = try? String(contentsOf: url, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines), !t.isEmpty { return t }
        var bytes = [UInt8](repeating: 0, count: 32)
        for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255) }
        let token = bytes.map { String(format: "%02x", $0) }.joined()
        try AtomicFile.write(token + "\n", to: url, mode: 0o600)
        return token
    }

    /// The namespaces and RBAC policy every cluster has, and the service IPs already handed out.
    func bootstrap(_ registry: Registry, _ serviceIPs: ServiceIPAllocator) async throws {
        try await BootstrapPolicy.ensure(in: registry)
        guard let nsDef = registry.catalog.lookup(group: "", version: "v1", plural: "namespaces") else { return }
        for name in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            do { _ = try await registry.create(nsDef, namespace: nil, body: ["metadata": ["name": .string(name)]]) } catch {
                if error.code != 409 { throw error }
            }
        }
        // minikube's default StorageClass: claims that name no class are provisioned by it.
        if let scDef = registry.catalog.lookup(group: "storage.k8s.io", version: "v1", plural: "storageclasses") {
            do {
                _ = try await registry.create(scDef, namespace: nil, body: [
                    "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
                    "metadata": ["name": "standard", "annotations": ["storageclass.kubernetes.io/is-default-class": "true"],
                                 "labels": ["addonmanager.kubernetes.io/mode": "EnsureExists"]],
                    "provisioner": .string(PersistentVolumeController.provisioner), "reclaimPolicy": "Delete", "volumeBindingMode": "Immediate"])
            } catch {
                if error.code != 409 { throw error }
            }
        }
        if let svcDef = registry.catalog.lookup(group: "", version: "v1", plural: "services") {
            let page = try await registry.list(svcDef, namespace: nil, options: ListOptions())
            await serviceIPs.restore(page.items.compactMap { try? JSON.parse($0) })
        }
    }

    func crdsPending(_ registry: Registry) async throws -> Bool {
        guard let crdDef = registry.catalog.lookup(group: "apiextensions.k8s.io", version: "v1", plural: "customresourcedefinitions") else { return false }
        let stored = try await registry.list(crdDef, namespace: nil, options: ListOptions()).items.count
        let served = Set(registry.catalog.all.filter { registry.catalog.builtinSchemas[$0.schemaName ?? ""] == nil }.map { "\($0.plural).\($0.group)" }).count
        return served < stored
    }

    /// Each tick compacts history up to the revision current at the tick before, so a window of
    /// one interval stays watchable (as upstream's apiserver compacts etcd).
    static func compact(_ store: SQLiteStore, every interval: Duration) async {
        var previous = await store.currentRevision()
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            try? await store.compact(to: previous)
            previous = await store.currentRevision()
        }
    }
}
