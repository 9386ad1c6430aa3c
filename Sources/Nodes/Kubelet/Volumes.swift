import APIMachinery
import Client
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a pod's volumes are on the node, for its containers' mounts.
struct PodMounts: Sendable {
    var volumes: [String: URL] = [:]
    /// Volumes mounted read-only whatever the mount says (configMap, secret, downwardAPI, projected).
    var readOnly: Set<String> = []
    var hostsFile: URL?
}

/// The kubelet's volume manager: each of a pod's volumes made ready under PODS/UID/volumes before
/// its containers start, and kept up to date at each sync (configMap, secret, downwardAPI and
/// projected contents follow their sources; service-account tokens are renewed before they
/// expire). emptyDir with medium Memory is a tmpfs; hostPath is the node's path; a claim is its
/// bound volume's path.
actor VolumeManager {
    let client: Client
    let podsDirectory: URL
    let tokens: TokenIssuer
    /// Tokens handed to pods: renewed once 80% of their life (or a day) has passed, as upstream.
    var issued: [String: (token: String, issued: Date, expiration: Date)] = [:]

    init(client: Client, podsDirectory: URL, tokens: @escaping TokenIssuer) {
        self.client = client
        self.podsDirectory = podsDirectory
        self.tokens = tokens
    }

    struct MountError: Error, CustomStringConvertible {
        let description: String
    }

    nonisolated func podDirectory(_ uid: String) -> URL { podsDirectory.appendingPathComponent(uid, isDirectory: true) }

    func setUp(_ pod: JSON) async throws -> PodMounts {
        let uid = pod["metadata"]["uid"].string ?? ""
        let namespace = pod["metadata"]["namespace"].string ?? "default"
        let volumesDir = podDirectory(uid).appendingPathComponent("volumes")
        var mounts = PodMounts()
        mounts.hostsFile = podDirectory(uid).appendingPathComponent("etc-hosts")
        for volume in pod["spec"]["volumes"].array ?? [] {
            let name = volume["name"].string ?? ""
            func dir(_ plugin: String) -> URL { volumesDir.appendingPathComponent("kubernetes.io~\(plugin)").appendingPathComponent(name) }
            do {
                if !volume["emptyDir"].isNull {
                    let path = dir("empty-dir")
                    try FileManager.default.createDirectory(at: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o777])
                    if volume["emptyDir"]["medium"].string == "Memory" {
                        try Self.mountTmpfs(path, sizeLimit: volume["emptyDir"]["sizeLimit"])
                    }
                    mounts.volumes[name] = path
                } else if !volume["hostPath"].isNull {
                    mounts.volumes[name] = try Self.hostPath(volume["hostPath"])
                } else if !volume["persistentVolumeClaim"].isNull {
                    mounts.volumes[name] = try await claimPath(volume["persistentVolumeClaim"]["claimName"].string ?? "", namespace)
                    if volume["persistentVolumeClaim"]["readOnly"].bool == true { mounts.readOnly.insert(name) }
                } else {
                    let (plugin, payload) = try await contents(volume, pod)
                    let path = dir(plugin)
                    try AtomicWriter.write(payload, to: path)
                    mounts.volumes[name] = path
                    mounts.readOnly.insert(name)
                }
            } catch {
                throw MountError(description: "MountVolume.SetUp failed for volume \"\(name)\" : \(error)")
            }
        }
        return mounts
    }

    /// The files of a configMap, secret, downwardAPI or projected volume.
    func contents(_ volume: JSON, _ pod: JSON) async throws -> (plugin: String, files: [String: AtomicWriter.File]) {
        let namespace = pod["metadata"]["namespace"].string ?? "default"
        if !volume["configMap"].isNull {
            let source = volume["configMap"]
            return ("configmap", try await keyFiles("configmaps", source, namespace, defaultMode: Int(source["defaultMode"].int ?? 0o644)))
        }
        if !volume["secret"].isNull {
            var source = volume["secret"]
            source["name"] = source["secretName"]
            return ("secret", try await keyFiles("secrets", source, namespace, defaultMode: Int(source["defaultMode"].int ?? 0o644)))
        }
        if !volume["downwardAPI"].isNull {
            let source = volume["downwardAPI"]
            return ("downward-api", try Self.downwardFiles(source["items"], pod, defaultMode: Int(source["defaultMode"].int ?? 0o644)))
        }
        if !volume["projected"].isNull {
            let mode = Int(volume["projected"]["defaultMode"].int ?? 0o644)
            var files: [String: AtomicWriter.File] = [:]
            for source in volume["projected"]["sources"].array ?? [] {
                if !source["configMap"].isNull {
                    files.merge(try await keyFiles("configmaps", source["configMap"], namespace, defaultMode: mode)) { _, b in b }
                } else if !source["secret"].isNull {
                    files.merge(try await keyFiles("secrets", source["secret"], namespace, defaultMode: mode)) { _, b in b }
                } else if !source["downwardAPI"].isNull {
                    files.merge(try Self.downwardFiles(source["downwardAPI"]["items"], pod, defaultMode: mode)) { _, b in b }
                } else if !source["serviceAccountToken"].isNull {
                    let t = source["serviceAccountToken"]
                    let token = try await token(pod, audience: t["audience"].string, seconds: t["expirationSeconds"].int ?? 3600)
                    files[t["path"].string ?? "token"] = .init(contents: Data(token.utf8), mode: mode)
                }
            }
            return ("projected", files)
        }
        throw MountError(description: "volume type not supported by this node")
    }

    /// A ConfigMap's or Secret's keys as files (all, or the listed items with their paths/modes).
    func keyFiles(_ plural: String, _ source: JSON, _ namespace: String, defaultMode: Int) async throws -> [String: AtomicWriter.File] {
        let name = source["name"].string ?? "", optional = source["optional"].bool == true
        let kind = plural == "secrets" ? "secret" : "configmap"
        let object: JSON
        do throws(StatusError) {
            object = try await client.resource("", "v1", plural).get(namespace, name)
        } catch {
            if error.code == 404 && optional { return [:] }
            throw error.code == 404 ? MountError(description: "\(kind) \"\(name)\" not found") : MountError(description: error.message)
        }
        var data: [String: Data] = [:]
        if plural == "secrets" {
            for (k, v) in object["data"].stringMap { data[k] = Data(base64Encoded: v) ?? Data() }
        } else {
            for (k, v) in object["data"].stringMap { data[k] = Data(v.utf8) }
            for (k, v) in object["binaryData"].stringMap { data[k] = Data(base64Encoded: v) ?? Data() }
        }
        guard let items = source["items"].array, !items.isEmpty else {
            return data.mapValues { .init(contents: $0, mode: defaultMode) }
        }
        var files: [String: AtomicWriter.File] = [:]
        for item in items {
            let key = item["key"].string ?? ""
            guard let value = data[key] else {
                if optional { continue }
                throw MountError(description: "\(kind) references non-existent \(kind == "secret" ? "secret" : "config") key: \(key)")
            }
            files[item["path"].string ?? key] = .init(contents: value, mode: Int(item["mode"].int ?? Int64(defaultMode)))
        }
        return files
    }

    static func downwardFiles(_ items: JSON, _ pod: JSON, defaultMode: Int) throws -> [String: AtomicWriter.File] {
        var files: [String: AtomicWriter.File] = [:]
        for item in items.array ?? [] {
            let value: String
            if let field = item["fieldRef"]["fieldPath"].string {
                value = try Kubelet.fieldValue(field, pod, podIP: pod["status"]["podIP"].string ?? "", nodeIP: pod["status"]["hostIP"].string ?? "")
            } else {
                value = try Kubelet.resourceValue(item["resourceFieldRef"], pod, defaultContainer: nil)
            }
            files[item["path"].string ?? ""] = .init(contents: Data(value.utf8), mode: Int(item["mode"].int ?? Int64(defaultMode)))
        }
        return files
    }

    /// The pod's token for `audience`, reused until 80% of its life (at most a day) has passed.
    func token(_ pod: JSON, audience: String?, seconds: Int64) async throws -> String {
        let meta = pod["metadata"]
        let uid = meta["uid"].string ?? ""
        let key = "\(uid)/\(audience ?? "")/\(seconds)"
        let now = Date()
        if let held = issued[key] {
            let renewAt = held.issued.addingTimeInterval(min(held.expiration.timeIntervalSince(held.issued) * 0.8, 86400))
            if now < renewAt { return held.token }
        }
        let account = pod["spec"]["serviceAccountName"].string ?? "default"
        let (token, expiration) = try await tokens(meta["namespace"].string ?? "default", account, audience.map { [$0] } ?? [],
                                                   max(600, seconds), (meta["name"].string ?? "", uid))
        issued[key] = (token, now, expiration)
        return token
    }

    func claimPath(_ claim: String, _ namespace: String) async throws -> URL {
        let pvc: JSON
        do throws(StatusError) { pvc = try await client.resource("", "v1", "persistentvolumeclaims").get(namespace, claim) } catch {
            throw MountError(description: error.code == 404 ? "persistentvolumeclaim \"\(claim)\" not found" : error.message)
        }
        guard let volumeName = pvc["spec"]["volumeName"].string, pvc["status"]["phase"].string == "Bound" else {
            throw MountError(description: "persistentvolumeclaim \"\(claim)\" is not bound")
        }
        let pv: JSON
        do throws(StatusError) { pv = try await client.resource("", "v1", "persistentvolumes").get(nil, volumeName) } catch {
            throw MountError(description: error.message)
        }
        guard let path = pv["spec"]["hostPath"]["path"].string ?? pv["spec"]["local"]["path"].string else {
            throw MountError(description: "persistentvolume \"\(volumeName)\" is not a hostPath or local volume this node can mount")
        }
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o777])
        return URL(fileURLWithPath: path, isDirectory: true)
    }

    /// A hostPath volume's path, checked or made as its type says.
    static func hostPath(_ source: JSON) throws -> URL {
        let path = source["path"].string ?? ""
        let files = FileManager.default
        var isDirectory: ObjCBool = false
        let exists = files.fileExists(atPath: path, isDirectory: &isDirectory)
        switch source["type"].string ?? "" {
        case "DirectoryOrCreate":
            if !exists { try files.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755]) }
        case "FileOrCreate":
            if !exists { _ = files.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o644]) }
        case "Directory":
            guard exists, isDirectory.boolValue else { throw MountError(description: "hostPath type check failed: \(path) is not a directory") }
        case "File":
            guard exists, !isDirectory.boolValue else { throw MountError(description: "hostPath type check failed: \(path) is not a file") }
        case "Socket", "CharDevice", "BlockDevice":
            guard exists else { throw MountError(description: "hostPath type check failed: \(path) does not exist") }
        default:
            break
        }
        return URL(fileURLWithPath: path)
    }

    static func mountTmpfs(_ path: URL, sizeLimit: JSON) throws {
        #if os(Linux)
        if isMountPoint(path.path) { return }
        let size = sizeLimit.isNull ? "" : "size=\(Quantity.integer(sizeLimit))"
        guard mount("tmpfs", path.path, "tmpfs", 0, size) == 0 else {
            throw MountError(description: "mount tmpfs at \(path.path): \(String(cString: strerror(errno)))")
        }
        #endif
    }

    /// Whether something is mounted at `path`: it sits on another device than its parent. (When
    /// this read /proc/mounts through Foundation, which stops after 4 KB of it, a busy node's
    /// Memory emptyDir got a second, empty tmpfs over the first after its init containers had
    /// written to it.)
    static func isMountPoint(_ path: String) -> Bool {
        var own = stat(), parent = stat()
        guard stat(path, &own) == 0, stat(path + "/..", &parent) == 0 else { return false }
        return own.st_dev != parent.st_dev
    }

    /// /etc/hosts of the pod, as the kubelet writes it: localhost, the pod's address and name,
    /// and its hostAliases.
    nonisolated func writeHosts(_ pod: JSON, podIP: String) throws {
        let uid = pod["metadata"]["uid"].string ?? ""
        var hostname = Kubelet.hostname(pod)
        if let subdomain = pod["spec"]["subdomain"].string, !subdomain.isEmpty {
            let fqdn = "\(hostname).\(subdomain).\(pod["metadata"]["namespace"].string ?? "default").svc.\(ClusterNetwork.clusterDomain)"
            hostname = "\(fqdn)\t\(hostname)"
        }
        var text = "# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
        text += "fe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n"
        text += "\(podIP)\t\(hostname)\n"
        let aliases = pod["spec"]["hostAliases"].array ?? []
        if !aliases.isEmpty {
            text += "\n# Entries added by HostAliases.\n"
            for alias in aliases {
                text += "\(alias["ip"].string ?? "")\t\((alias["hostnames"].array ?? []).compactMap(\.string).joined(separator: "\t"))\n"
            }
        }
        let url = podDirectory(uid).appendingPathComponent("etc-hosts")
        if (try? String(contentsOf: url, encoding: .utf8)) == text { return }
        try FileManager.default.createDirectory(at: podDirectory(uid), withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        try Data(text.utf8).write(to: url, options: .atomic)
        chmod(url.path, 0o644)
    }

    /// The node-side file mounted at a container's terminationMessagePath.
    nonisolated func terminationMessageFile(_ pod: JSON, container: String, attempt: UInt32) throws -> URL {
        let dir = podDirectory(pod["metadata"]["uid"].string ?? "").appendingPathComponent("containers").appendingPathComponent(container)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let file = dir.appendingPathComponent("termination-\(attempt)")
        if !FileManager.default.fileExists(atPath: file.path) {
            _ = FileManager.default.createFile(atPath: file.path, contents: nil, attributes: [.posixPermissions: 0o666])
        }
        return file
    }

    /// Unmounts what the pod's volumes mounted (memory-backed emptyDirs); the files stay.
    func unmount(podUID: String) {
        Self.unmountAll(under: podDirectory(podUID).path)
    }

    /// Unmounts and removes everything the pod had on the node.
    func tearDown(podUID: String) {
        unmount(podUID: podUID)
        issued = issued.filter { !$0.key.hasPrefix(podUID + "/") }
        try? FileManager.default.removeItem(at: podDirectory(podUID))
    }

    /// Every mount at or under `path`, deepest first, detached.
    static func unmountAll(under path: String) {
        #if os(Linux)
        let mounts = Machine.readProc("/proc/mounts") ?? ""
        let points = mounts.split(separator: "\n").compactMap { $0.split(separator: " ").dropFirst().first.map(String.init) }
            .map { $0.replacingOccurrences(of: "\\040", with: " ") }
            .filter { $0 == path || $0.hasPrefix(path + "/") }
        for point in points.sorted(by: { $0.count > $1.count }) { umount2(point, Int32(MNT_DETACH)) }
        #endif
    }
}
