import APIMachinery
import Crypto
import Foundation

/// An OCI image layout in a tar file, as `ctr images import` (and so `cubby image load`) reads
/// it: one uncompressed layer of the given files, an image config, a manifest, and an index that
/// names the image. Enough for the small images Cubby makes itself (the offline sandbox image).
struct OCIArchive {
    struct File {
        var path: String
        var mode: Int
        var contents: [UInt8]
    }

    let name: String
    let files: [File]
    /// The image config's `config` member (Entrypoint, Cmd, Env, ...).
    let config: JSON
    var labels: [String: String] = [:]

    func write(to url: URL) throws {
        let layer = Tar.archive(files.map { Tar.Entry(path: $0.path, mode: $0.mode, contents: $0.contents) })
        let layerDigest = Self.digest(layer)
        var imageConfig = config
        if !labels.isEmpty { imageConfig["Labels"] = JSON(labels) }
        let configJSON: JSON = [
            "architecture": .string(Self.architecture), "os": "linux", "config": imageConfig,
            "rootfs": ["type": "layers", "diff_ids": [.string(layerDigest)]],
        ]
        let configBlob = Array(configJSON.data())
        let manifestJSON: JSON = [
            "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": Self.descriptor(configBlob, "application/vnd.oci.image.config.v1+json"),
            "layers": [Self.descriptor(layer, "application/vnd.oci.image.layer.v1.tar")],
        ]
        let manifest = Array(manifestJSON.data())
        var entry = Self.descriptor(manifest, "application/vnd.oci.image.manifest.v1+json")
        entry["annotations"] = ["io.containerd.image.name": .string(name),
                                "org.opencontainers.image.ref.name": .string(String(name.split(separator: ":").last ?? "latest"))]
        entry["platform"] = ["architecture": .string(Self.architecture), "os": "linux"]
        let indexJSON: JSON = ["schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [entry]]
        let index = Array(indexJSON.data())
        var entries = [Tar.Entry(path: "oci-layout", mode: 0o644, contents: Array(#"{"imageLayoutVersion":"1.0.0"}"#.utf8)),
                       Tar.Entry(path: "index.json", mode: 0o644, contents: index)]
        for blob in [configBlob, manifest, layer] {
            entries.append(Tar.Entry(path: "blobs/sha256/" + Self.digest(blob).dropFirst("sha256:".count), mode: 0o644, contents: blob))
        }
        try Data(Tar.archive(entries)).write(to: url, options: .atomic)
    }

    static func digest(_ bytes: [UInt8]) -> String {
        "sha256:" + SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }

    static func descriptor(_ blob: [UInt8], _ mediaType: String) -> JSON {
        ["mediaType": .string(mediaType), "digest": .string(digest(blob)), "size": .int(Int64(blob.count))]
    }

    static var architecture: String {
        #if arch(arm64)
        "arm64"
        #else
        "amd64"
        #endif
    }
}

/// Just enough of the ustar format for image layers: regular files with their mode, owned by
/// root, dated 1970 (so the same files give the same digest).
enum Tar {
    struct Entry {
        var path: String
        var mode: Int
        var contents: [UInt8]
    }

    static func archive(_ entries: [Entry]) -> [UInt8] {
        var out: [UInt8] = []
        for entry in entries {
            var header = [UInt8](repeating: 0, count: 512)
            func put(_ text: String, at offset: Int, width: Int) {
                for (i, byte) in text.utf8.prefix(width).enumerated() { header[offset + i] = byte }
            }
            func octal(_ value: Int, at offset: Int, width: Int) {
                let digits = String(value, radix: 8)
                put(String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits, at: offset, width: width - 1)
            }
            put(entry.path, at: 0, width: 100)
            octal(entry.mode, at: 100, width: 8)
            octal(0, at: 108, width: 8)
            octal(0, at: 116, width: 8)
            octal(entry.contents.count, at: 124, width: 12)
            octal(0, at: 136, width: 12)
            put("        ", at: 148, width: 8)
            header[156] = UInt8(ascii: "0")
            put("ustar", at: 257, width: 6)
            put("00", at: 263, width: 2)
            let sum = header.reduce(0) { $0 + Int($1) }
            octal(sum, at: 148, width: 7)
            header[155] = UInt8(ascii: " ")
            out += header
            out += entry.contents
            out += [UInt8](repeating: 0, count: (512 - entry.contents.count % 512) % 512)
        }
        return out + [UInt8](repeating: 0, count: 1024)
    }
}
