import APIMachinery
import Nodes
import Registry

/// The components localkube runs, as mirror pods in kube-system: what kubeadm's static pods
/// (and the coredns, kube-proxy and metrics-server pods of kind or minikube) are on other
/// clusters, with their labels, priorities and requests, each Ready while its part serves.
extension ControlPlane {
    func componentPods(_ registry: Registry, dns: Bool, proxy: Bool) -> [MirrorPods.StaticPod] {
        let image = "cubby.dev/localkube:\(Self.version)"
        let controlPlane = { (component: String) in ["component": component, "tier": "control-plane"] }
        /// A loop's health as `kubectl get componentstatuses` reports it.
        let health = { (name: String) -> @Sendable () async -> String? in
            { await registry.components.error(of: name) }
        }
        let store: (name: String, check: String) = options.store == .sqlite ? ("sqlite", "sqlite-0") : ("etcd", "etcd-0")
        var pods = [
            MirrorPods.StaticPod(component: "kube-apiserver", image: image, command: ["localkube", "kube-apiserver"],
                                 labels: controlPlane("kube-apiserver"), requests: ["cpu": "250m"]),
            MirrorPods.StaticPod(component: "kube-controller-manager", image: image, command: ["localkube", "kube-controller-manager"],
                                 labels: controlPlane("kube-controller-manager"), requests: ["cpu": "200m"], health: health("controller-manager")),
            MirrorPods.StaticPod(component: "kube-scheduler", image: image, command: ["localkube", "kube-scheduler"],
                                 labels: controlPlane("kube-scheduler"), requests: ["cpu": "100m"], health: health("scheduler")),
            MirrorPods.StaticPod(component: store.name, image: image, command: ["localkube", store.name],
                                 labels: controlPlane(store.name), requests: ["cpu": "100m", "memory": "100Mi"], health: health(store.check)),
            MirrorPods.StaticPod(component: "metrics-server", image: image, command: ["localkube", "metrics-server"],
                                 labels: ["k8s-app": "metrics-server"], requests: ["cpu": "100m", "memory": "200Mi"],
                                 priorityClassName: "system-cluster-critical"),
        ]
        if dns {
            pods.append(MirrorPods.StaticPod(component: "coredns", image: image, command: ["localkube", "coredns"], labels: ["k8s-app": "kube-dns"],
                                             requests: ["cpu": "100m", "memory": "70Mi"], priorityClassName: "system-cluster-critical"))
        }
        if proxy {
            pods.append(MirrorPods.StaticPod(component: "kube-proxy", image: image, command: ["localkube", "kube-proxy"],
                                             labels: ["k8s-app": "kube-proxy"]))
        }
        return pods
    }
}
