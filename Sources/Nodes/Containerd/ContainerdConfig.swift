import Foundation

/// The configuration of a cluster's own containerd: its root, state and socket under the
/// cluster's folders (so it never meets the machine's own containerd), the CRI plugin with the
/// cluster's sandbox image, CNI folders and `restrict_oom_score_adj` (a sandbox may not lower its
/// oom_score_adj on every machine; runc fails with "can't get final child's PID from pipe"
/// otherwise), and the plugins a kubelet does not use left out.
struct ContainerdConfig {
    let layout: RuntimeLayout
    let sandboxImage: String
    let cniBinDirectory: String

    /// Plugins that would only cost memory and start time here, or write outside our folders
    /// (`opt` makes /opt/containerd).
    static let disabledPlugins = [
        "io.containerd.internal.v1.opt", "io.containerd.internal.v1.tracing", "io.containerd.tracing.processor.v1.otlp",
        "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper",
        "io.containerd.snapshotter.v1.zfs",
    ]

    var toml: String {
        func quoted(_ s: String) -> String { "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
        let cri = "[plugins.\"io.containerd.grpc.v1.cri\"]"
        return """
        # Written by cubby for the cluster "\(layout.name)"; rewritten at each start.
        version = 2
        root = \(quoted(layout.rootPath))
        state = \(quoted(layout.statePath))
        disabled_plugins = [\(Self.disabledPlugins.map(quoted).joined(separator: ", "))]

        [grpc]
          address = \(quoted(layout.socketPath))

        \(cri)
          sandbox_image = \(quoted(sandboxImage))
          restrict_oom_score_adj = true
          netns_mounts_under_state_dir = true
          stream_server_address = "127.0.0.1"
          stream_server_port = "0"
          max_container_log_line_size = 16384

        \(cri.dropLast()).cni]
          bin_dir = \(quoted(cniBinDirectory))
          conf_dir = \(quoted(layout.cniConfigPath))
          max_conf_num = 1

        \(cri.dropLast()).containerd]
          snapshotter = "overlayfs"
          default_runtime_name = "runc"

        \(cri.dropLast()).containerd.runtimes.runc]
          runtime_type = "io.containerd.runc.v2"

        \(cri.dropLast()).containerd.runtimes.runc.options]
          Root = \(quoted(layout.runcRoot))

        """
    }
}
