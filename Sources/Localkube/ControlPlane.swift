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
import DNS
import Proxy

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
        /// The pod sandbox image of the containerd driver.
        public var sandboxImage: String
        /// The cluster DNS's port: on the node's address with real pods (default 53); else on
        /// 127.0.0.1 (default any free port, which the log names).
        public var dnsPort: Int?
        /// The resolv.conf whose nameservers the cluster DNS forwards other names to.
        public var resolvConf: String

        /// Where the cluster's objects live.
        public var store: StoreChoice
        /// Requests in flight and request timeouts (kube-apiserver's defaults unless set).
        public var limits = ServingLimits()
        /// How often each HorizontalPodAutoscaler is evaluated (kube-controller-manager's
        /// --horizontal-pod-autoscaler-sync-period).
        public var autoscalerSyncPeriod: Duration = .seconds(15)

        public enum StoreChoice: Sendable, Equatable {
            /// state.db in the data folder (the default).
            case sqlite
            /// An etcd cluster, shared by every localkube given the same servers and prefix.
            case etcd(EtcdConfiguration)
        }

        public enum Driver: String, Sendable, CaseIterable {
            /// One node, the host: pods run as containers through the cluster's own containerd.
            case containerd
            /// Nodes whose pods run no processes (as kwok).
            case simulated
            /// No nodes: the control plane alone.
            case none
        }

        public init(dataDirectory: URL, port: Int = 8443, bindAddress: String = "127.0.0.1",
                    compactionInterval: Duration = .seconds(300), clusterName: String = "cubby",
                    nodes: Int = 1, driver: Driver = .simulated, nodeMonitorGracePeriod: Duration = .seconds(40),
                    sandboxImage: String = SandboxImage.standard, dnsPort: Int? = nil, resolvConf: String = "/etc/resolv.conf",
                    store: StoreChoice = .sqlite) {
            self.store = store
            self.sandboxImage = sandboxImage
            self.dnsPort = dnsPort
            self.resolvConf = resolvConf
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
        OpenFileLimit.raise()
        let dir = options.dataDirectory
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        // A store this cubby cannot open is refused before anything touches the machine.
        let store: any Store = switch options.store {
        case .sqlite: try SQLiteStore(path: dir.appendingPathComponent("state.db").path)
        case .etcd(let configuration): try await EtcdStore(configuration: configuration)
        }
        // Real pods: the node's network and containerd come first, since the API server also
        // listens on the bridge (pods reach it there) and its certificate names that address.
        let node: ContainerdNode? = options.driver == .containerd
            ? try await ContainerdNode.start(RuntimeLayout(name: options.clusterName, dataDirectory: dir), sandboxImage: options.sandboxImage, logger: logger)
            : nil
        let network = node?.network.network ?? .standard
        let nodeAddress = node.map { _ in network.gateway() }
        do {
            try await serve(store, node: node, network: network, nodeAddress: nodeAddress)
        } catch {
            await node?.stop()
            await store.close()
            throw error
        }
    }

    func serve(_ store: any Store, node: ContainerdNode?, network: ClusterNetwork, nodeAddress: String?) async throws {
        let dir = options.dataDirectory
        let pkiDirectory = dir.appendingPathComponent("pki")
        let servingAddresses = [network.kubernetesServiceIP] + (nodeAddress.map { [$0] } ?? [])
        let pki = try SelfSignedPKI.loadOrCreate(in: pkiDirectory, addresses: servingAddresses)
        let token = try Self.loadOrCreateToken(dir.appendingPathComponent("token"))
        let users = try LocalCredentials.loadOrCreate(in: dir, adminToken: token)

        let catalog = ResourceCatalog(builtin: BuiltinResources.all, schemas: BuiltinResources.schemas)
        let serviceIPs = ServiceIPAllocator(cidr: network.serviceCIDR)
        let admission = AdmissionConfigurations()
        let registry = Registry(store: store, catalog: catalog,
                                admission: AdmissionChain.standard(serviceIPs: serviceIPs, dynamic: (admission, AdmissionWebhookClient())))
        try await bootstrap(registry, serviceIPs)

        let signer = try pki.caKeyPEM.map { try ClusterSigner(caPEM: pki.caPEM, keyPEM: $0) }
        let components = try await startComponents(registry, caPEM: pki.caPEM, signer: signer, node: node, network: network,
                                                   serviceAccountKeyPEM: pki.serviceAccountKeyPEM)
        let loops = [
            Task { await CustomResourceSync(registry: registry).run() },
            Task { await admission.run(registry) },
            Task { await Self.compact(store, every: options.compactionInterval) },
        ] + components.tasks
        // Wait for CRDs stored earlier to be served again before taking requests.
        for _ in 0..<100 where try await crdsPending(registry) { try await Task.sleep(for: .milliseconds(10)) }

        let renewal = CertificateRenewal(directory: pkiDirectory, addresses: servingAddresses, served: pki, logger: logger)
        let kubeDNS = SystemService.kubeDNS(address: nodeAddress, clusterIP: network.dnsServiceIP,
                                            dnsPort: components.dnsPort ?? 53, metricsPort: Self.dnsMetricsPort)
        let host = options.bindAddress == "0.0.0.0" ? "127.0.0.1" : options.bindAddress
        /// The system services' endpoints: this process's port and address (at start, and after a
        /// restore brought back the ones a snapshot saw).
        @Sendable func reconcileSystemServices(port: Int) async {
            // Pods reach the API server at the node's address; without real pods, at the host's.
            await SystemService.kubernetes(address: nodeAddress ?? host, port: port, clusterIP: network.kubernetesServiceIP).reconcile(registry)
            await kubeDNS.reconcile(registry)
        }
        var configuration = APIServer.Configuration(
            bindAddress: options.bindAddress, port: options.port,
            certificatePEM: Array(pki.certificatePEM.utf8), privateKeyPEM: Array(pki.keyPEM.utf8),
            tokens: users.tokens, passwords: users.passwords, clientCAPEM: Array(pki.caPEM.utf8),
            serviceAccountKeyPEM: pki.serviceAccountKeyPEM, version: Self.version)
        configuration.limits = options.limits
        if case .sqlite = options.store {
            // A restore brings back what the snapshot held; what localkube keeps beside it (the
            // bootstrap objects, the addresses services hold, its own endpoints) follows.
            let restorer = SnapshotRestorer(store: store, directory: dir, logger: logger,
                                            beforeAnswer: { try? await Self.reloadServiceIPs(registry, serviceIPs) },
                                            afterRestore: { [self] in
                try await bootstrap(registry, serviceIPs)
                if let port = renewal.port.withLock({ $0 }) { await reconcileSystemServices(port: port) }
            })
            configuration.snapshotRestore = SnapshotRestore(restore: restorer.restore)
        }
        if let nodeAddress { configuration.additionalBindAddresses = [nodeAddress] }
        let server = try APIServer(registry: registry, configuration: configuration, logger: logger)
        let kubeconfigURL = dir.appendingPathComponent("kubeconfig")
        let name = options.clusterName
        let log = logger
        /// DATA/kubeconfig, for the admin: with the client certificate when there is one.
        @Sendable func writeKubeconfig(_ pki: SelfSignedPKI, port: Int) {
            let credentials: AdminKubeconfig.Credentials = if let cert = pki.adminCertificatePEM, let key = pki.adminKeyPEM {
                .clientCertificate(cert: cert, key: key)
            } else {
                .token(token)
            }
            let config = AdminKubeconfig.render(name: name, server: "https://\(host):\(port)", caPEM: pki.caPEM, credentials: credentials)
            do { try AtomicFile.write(config, to: kubeconfigURL, mode: 0o600) } catch {
                log.error("cannot write \(kubeconfigURL.path): \(error)")
            }
        }
        let renewing = Task.detached(priority: .background) {
            await renewal.run { renewed, port in
                try server.tls.replace(certificatePEM: Array(renewed.certificatePEM.utf8), privateKeyPEM: Array(renewed.keyPEM.utf8))
                if let port { writeKubeconfig(renewed, port: port) }
            }
        }
        defer {
            for loop in loops { loop.cancel() }
            renewing.cancel()
        }
        try await server.run { port in
            renewal.port.withLock { $0 = port }
            await reconcileSystemServices(port: port)
            writeKubeconfig(pki, port: port)
            log.notice("localkube serving on https://\(host):\(port)")
            // Once the loops have made their first pass, the pages only starting touched go back.
            Task.detached(priority: .background) {
                try? await Task.sleep(for: .seconds(1))
                StartupPages.release()
            }
        }
        // `cubby stop`: the kubelet ends first, then every pod is stopped, then the runtime.
        if let kubelet = components.kubelet, let node {
            // Syncs in flight finish first (a few seconds at most), so no pod starts behind the stop.
            if let task = components.kubeletTask {
                task.cancel()
                await withTaskGroup(of: Void.self) { group in
                    group.addTask { await task.value }
                    group.addTask { try? await Task.sleep(for: .seconds(5)) }
                    await group.next()
                    group.cancelAll()
                }
            }
            let clock = ContinuousClock(), started = clock.now
            await kubelet.stopAllPods()
            let podsStopped = clock.now
            // The proxy stops syncing before its table goes with the pod network.
            if let proxy = components.proxyTask {
                proxy.cancel()
                await proxy.value
            }
            await node.stop()
            logger.notice("stopped the pods in \(podsStopped - started), then containerd and the pod network in \(clock.now - podsStopped)")
        }
        for loop in loops { loop.cancel() }
        await components.dns?.stop()
        await store.close()
    }

    struct Components {
        var tasks: [Task<Void, Never>]
        var kubelet: Kubelet?
        var kubeletTask: Task<Void, Never>?
        var proxyTask: Task<Void, Never>?
        var dns: ClusterDNS?
        /// The port the cluster DNS answers on, when it runs.
        var dnsPort: Int?
    }

    /// CoreDNS's Prometheus port, which the kube-dns Service names `metrics`.
    static let dnsMetricsPort = 9153

    /// The controller manager, scheduler and node agent: each a loop over informers, all writing
    /// through the in-process client. On etcd, where other localkubes may share the cluster, each
    /// of the three runs only while this process holds its Lease (upstream's leader election),
    /// on informers of its own that start with each term.
    func startComponents(_ registry: Registry, caPEM: String, signer: ClusterSigner?, node: ContainerdNode?, network: ClusterNetwork,
                         serviceAccountKeyPEM: String?) async throws -> Components {
        let informers = InformerFactory(client: Client(registry: registry, fieldManager: "kube-controller-manager"))
        let manager = Client(registry: registry, fieldManager: "kube-controller-manager")
        let options = self.options, issueSecretToken = try Self.secretTokenIssuer(serviceAccountKeyPEM)
        let controllers: @Sendable (InformerFactory) -> [any Controller] = { informers in [
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
            ResourceQuotaController(client: manager, informers: informers),
            TokensController(client: manager, informers: informers, caPEM: caPEM, issue: issueSecretToken),
            PVCProtectionController(client: manager, informers: informers),
            PVProtectionController(client: manager, informers: informers),
            ClusterRoleAggregationController(client: Client(registry: registry, fieldManager: "clusterrole-aggregation-controller"), informers: informers),
            RootCACertPublisher(client: manager, informers: informers, caPEM: caPEM),
            EndpointsController(client: manager, informers: informers),
            EndpointSliceController(client: manager, informers: informers),
            ServiceLoadBalancerController(client: manager, informers: informers),
            PersistentVolumeController(client: manager, informers: informers, directory: options.dataDirectory.appendingPathComponent("volumes")),
            HorizontalPodAutoscalerController(client: manager, informers: informers, syncPeriod: options.autoscalerSyncPeriod),
        ] + (signer.map { [CertificateSigningController(client: manager, informers: informers, signer: $0)] } ?? []) }
        let scheduler: @Sendable (InformerFactory) -> [any Controller] = { informers in
            [Scheduler(client: Client(registry: registry, fieldManager: "kube-scheduler"), informers: informers)]
        }
        let kubeletClient = Client(registry: registry, fieldManager: "kubelet")
        var agents: [any NodeAgent] = []
        var kubelet: Kubelet?
        var simulated: (@Sendable (InformerFactory) -> SimulatedNodes)?
        if let node, let keyPEM = serviceAccountKeyPEM {
            let made = node.kubelet(client: kubeletClient, informers: informers, nodeName: options.clusterName, kubeletVersion: Self.kubeletVersion,
                                    tokens: try Self.tokenIssuer(registry, keyPEM: keyPEM), logger: logger)
            kubelet = made
            agents.append(made)
            registry.nodes.register(made, for: [options.clusterName])
        } else if options.driver == .simulated && options.nodes > 0 {
            let names = Self.nodeNames(options.clusterName, count: options.nodes)
            simulated = { informers in
                let agent = SimulatedNodes(client: kubeletClient, informers: informers, names: names, kubeletVersion: Self.kubeletVersion,
                                           renewInterval: min(.seconds(10), options.nodeMonitorGracePeriod / 4))
                registry.nodes.register(agent, for: names)
                return agent
            }
        }
        // kube-proxy's part: the node's kernel serves the services of real pods.
        var proxy: ServiceProxy?
        if let node {
            proxy = ServiceProxy(configuration: .init(table: node.layout.proxyTable, nodeName: options.clusterName, nodeAddress: network.gateway(),
                                                      podCIDR: network.podCIDR, serviceCIDR: network.serviceCIDR, bridge: network.bridge),
                                 informers: informers, logger: logger)
            await proxy?.register()
        }
        let (dns, dnsPort) = try await startDNS(informers: informers, network: network, node: node)
        let log = logger
        // kubectl get componentstatuses: each loop is healthy while it runs.
        registry.components.running("scheduler")
        registry.components.running("controller-manager")
        @Sendable func running(_ controllers: [any Controller]) -> [Task<Void, Never>] {
            controllers.map { c in
                Task {
                    await c.run(logger: log)
                    registry.components.stopped(c is Scheduler ? "scheduler" : "controller-manager", "\(c.name) stopped")
                }
            }
        }
        // The components as mirror pods on the first node (the control-plane one).
        let staticPods = componentPods(registry, dns: dns != nil, proxy: proxy != nil)
        let hostIP = node != nil ? network.gateway() : SimulatedNodes.address(index: 0)
        let mirrors = { @Sendable (informers: InformerFactory) in
            MirrorPods(client: kubeletClient, informers: informers, nodeName: options.clusterName, hostIP: hostIP, staticPods: staticPods)
        }
        let hasNode = node != nil || simulated != nil
        var tasks: [Task<Void, Never>]
        if case .etcd = options.store {
            let identity = LeaderElection.identity()
            let elect = { (lease: String, build: @escaping @Sendable (InformerFactory) -> [Task<Void, Never>]) -> Task<Void, Never> in
                let election = LeaderElection(client: Client(registry: registry, fieldManager: lease),
                                              configuration: .init(name: lease, identity: identity), logger: log)
                return Task {
                    await election.run {
                        let informers = InformerFactory(client: Client(registry: registry, fieldManager: lease))
                        let work = build(informers)
                        let all = informers.start() + work
                        await withTaskCancellationHandler {
                            for task in all { await task.value }
                        } onCancel: {
                            for task in all { task.cancel() }
                        }
                    }
                }
            }
            tasks = informers.start()
            tasks.append(elect("kube-controller-manager") { running(controllers($0)) })
            tasks.append(elect("kube-scheduler") { running(scheduler($0)) })
            if let simulated {
                // One process at a time speaks for the nodes, their mirror pods too.
                tasks.append(elect(Self.nodeAgentLease) { informers in
                    let agent = simulated(informers), mirrorPods = mirrors(informers)
                    return [Task { await agent.run() }, Task { await mirrorPods.run() }]
                })
            } else if hasNode {
                let mirrorPods = mirrors(informers)
                tasks.append(Task { await mirrorPods.run() })
            }
        } else {
            let all = controllers(informers) + scheduler(informers)
            if let simulated { agents.append(simulated(informers)) }
            let mirrorPods = hasNode ? mirrors(informers) : nil
            tasks = informers.start() + running(all) + (mirrorPods.map { m in [Task { await m.run() }] } ?? [])
        }
        // The store is healthy while it answers a read, as upstream's etcd check reads a key.
        let store = registry.store
        registry.components.probe(options.store == .sqlite ? "sqlite-0" : "etcd-0") {
            do {
                _ = try await store.get("health")
                return nil
            } catch {
                return "\(error)"
            }
        }
        let agentTasks = agents.map { a in Task { await a.run() } }
        let proxyTask = proxy.map { p in Task { await p.run() } }
        return Components(tasks: tasks + agentTasks + (proxyTask.map { [$0] } ?? []), kubelet: kubelet,
                          kubeletTask: kubelet == nil ? nil : agentTasks.first, proxyTask: proxyTask, dns: dns, dnsPort: dnsPort)
    }

    /// The cluster DNS: on the node's address (port 53, where the kube-dns Service's endpoint
    /// points) with real pods; else on 127.0.0.1 (on `--dns-port`, or any free port), where the
    /// host can query the records of simulated pods. Other names go to the nameservers of the
    /// host's resolv.conf, never back to itself.
    func startDNS(informers: InformerFactory, network: ClusterNetwork, node: ContainerdNode?) async throws -> (ClusterDNS?, Int?) {
        let host = node != nil ? network.gateway() : "127.0.0.1"
        // The cluster DNS leaves out its own listening address; its service address too, which a
        // host pointed at the cluster DNS would list.
        let upstreams = ClusterDNS.resolvConfNameservers(options.resolvConf).filter { $0 != network.dnsServiceIP }
        let dns = ClusterDNS(informers: informers, domain: ClusterNetwork.clusterDomain, upstreams: upstreams, logger: logger)
        await dns.register()
        let port = try await dns.start(host: host, port: options.dnsPort ?? (node != nil ? 53 : 0), metricsPort: node == nil ? nil : Self.dnsMetricsPort)
        logger.notice("cluster DNS answering on \(host):\(port)")
        return (dns, port)
    }

    static let kubeletVersion = "v1.37.0"

    /// The Lease of the simulated nodes' agent: one localkube at a time heartbeats them and runs their pods.
    static let nodeAgentLease = "cubby-node-agent"

    /// Tokens for `kubernetes.io/service-account-token` Secrets: bound to the Secret, and as
    /// long-lived as the Secret (a hundred years), as legacy token Secrets are.
    static func secretTokenIssuer(_ keyPEM: String?) throws -> TokensController.Issuer {
        let signer = try keyPEM.map(ServiceAccountTokens.init(privateKeyPEM:))
        return { namespace, account, accountUID, secret, secretUID in
            guard let signer else { throw StatusError.internalError("no service-account signing key") }
            return signer.issue(.init(namespace: namespace, serviceAccountName: account, serviceAccountUID: accountUID,
                                      audiences: [ServiceAccountTokens.issuer], expiration: Date().addingTimeInterval(100 * 365 * 86400),
                                      bound: .init(kind: "Secret", name: secret, uid: secretUID)))
        }
    }

    /// Service-account tokens for pods' projected volumes, signed and shaped as the TokenRequest
    /// API's, bound to the pod.
    static func tokenIssuer(_ registry: Registry, keyPEM: String) throws -> TokenIssuer {
        let signer = try ServiceAccountTokens(privateKeyPEM: keyPEM)
        return { namespace, account, audiences, seconds, pod in
            guard let def = registry.catalog.lookup(group: "", version: "v1", plural: "serviceaccounts") else { throw StatusError.notFoundPath() }
            let sa = try await registry.get(def, namespace: namespace, name: account)
            let now = Date(), expiration = now.addingTimeInterval(Double(seconds))
            let token = signer.issue(.init(namespace: namespace, serviceAccountName: account, serviceAccountUID: sa["metadata"]["uid"].string ?? "",
                                           audiences: audiences.isEmpty ? [ServiceAccountTokens.issuer] : audiences, expiration: expiration,
                                           bound: .init(kind: "Pod", name: pod.name, uid: pod.uid)), now: now)
            return (token, expiration)
        }
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
        guard let nsDef = registry.catalog.lookup(group: "", version: "v1", plural: "namespaces") else { return }
        for name in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            do { _ = try await registry.create(nsDef, namespace: nil, body: ["metadata": ["name": .string(name)]]) } catch {
                if error.code != 409 { throw error }
            }
        }
        // After the namespaces: some of the policy's roles live in kube-system and kube-public.
        try await BootstrapPolicy.ensure(in: registry)
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
        // The system priority classes every cluster has.
        if let pcDef = registry.catalog.lookup(group: "scheduling.k8s.io", version: "v1", plural: "priorityclasses") {
            for pc in SchedulingV1.systemClasses {
                do { _ = try await registry.create(pcDef, namespace: nil, body: pc) } catch { if error.code != 409 { throw error } }
            }
        }
        try await registerAPIServices(registry)
        try await Self.reloadServiceIPs(registry, serviceIPs)
    }

    /// The cluster IPs and node ports the stored services hold.
    static func reloadServiceIPs(_ registry: Registry, _ serviceIPs: ServiceIPAllocator) async throws(StatusError) {
        guard let svcDef = registry.catalog.lookup(group: "", version: "v1", plural: "services") else { return }
        let page = try await registry.list(svcDef, namespace: nil, options: ListOptions())
        await serviceIPs.reload(page.items.compactMap { try? JSON.parse($0) })
    }

    /// An APIService for every built-in group version, Available, as kube-aggregator registers
    /// the local ones at start; metrics.k8s.io among them, which localkube serves itself.
    func registerAPIServices(_ registry: Registry) async throws {
        guard let def = registry.catalog.lookup(group: "apiregistration.k8s.io", version: "v1", plural: "apiservices") else { return }
        let versions = Set(registry.catalog.all.map { "\($0.version).\($0.group)" }).sorted()
        let now = APITime.format(Date())
        for id in versions {
            let (version, group) = (String(id.prefix { $0 != "." }), String(id.drop { $0 != "." }.dropFirst()))
            let object = ApiregistrationV1.local(group: group, version: version, now: now)
            let name = object["metadata"]["name"].string ?? id
            do { _ = try await registry.create(def, namespace: nil, body: object) } catch {
                if error.code != 409 { throw error }
                continue
            }
            let status = object["status"]
            _ = try await registry.patch(def, namespace: nil, name: name, subresource: .status, options: WriteOptions(fieldManager: "kube-apiserver")) { o throws(StatusError) in
                var o = o
                o["status"] = status
                return o
            }
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
    static func compact(_ store: any Store, every interval: Duration) async {
        var previous = await store.currentRevision()
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            try? await store.compact(to: previous)
            previous = await store.currentRevision()
        }
    }
}
