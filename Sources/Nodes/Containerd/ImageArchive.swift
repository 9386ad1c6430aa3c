import Foundation

/// Loads an image archive (an OCI layout or a `docker save` tar) into a cluster's containerd, in
/// the namespace the CRI serves (k8s.io), so pods can use it. CRI has no call for this; containerd's
/// own `ctr` does it.
public enum ImageArchive {
    public static func load(_ path: String, socket: String, ctr: String) async throws {
        try await HostCommand.run(ctr, ["--address", socket, "--namespace", "k8s.io", "images", "import", "--no-unpack=false", path])
    }
}
