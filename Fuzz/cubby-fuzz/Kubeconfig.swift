import Cluster
import Foundation

/// Kubeconfig files as Cubby meets them: whatever the user's ~/.kube/config holds.
enum Kubeconfig {
    static let url = FileManager.default.temporaryDirectory.appendingPathComponent("cubby-fuzz-\(getpid())-kubeconfig")

    /// Reads the file, then removes a profile from it, as `cubby delete` does; neither may crash.
    static func check(_ bytes: [UInt8]) {
        guard (try? Data(bytes).write(to: url)) != nil else { return }
        let file = KubeconfigFile(url: url)
        _ = file.isConfigured(name: "cubby", server: "https://127.0.0.1:8443")
        try? file.remove(name: "cubby")
    }
}
