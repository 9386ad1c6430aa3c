import Foundation

/// Where the etcd store finds its cluster and how it proves itself to it: what kube-apiserver's
/// `--etcd-servers`, `--etcd-cafile`, `--etcd-certfile`, `--etcd-keyfile` and `--etcd-prefix` say.
public struct EtcdConfiguration: Sendable, Equatable {
    public struct Endpoint: Sendable, Equatable {
        public var host: String
        public var port: Int
        public var secure: Bool
    }

    public var endpoints: [Endpoint]
    public var caFile: String?
    public var certFile: String?
    public var keyFile: String?
    /// Where keys live: the Registry's `/registry/...` keys are stored under this prefix instead.
    public var prefix: String
    /// How long one call may take before the request fails (etcd without a quorum never answers).
    public var requestTimeout: Duration

    public static let defaultPrefix = "/registry"

    /// Parses `https://127.0.0.1:2379,https://127.0.0.1:22379`, as `--etcd-servers` takes them.
    public init(servers: String, caFile: String? = nil, certFile: String? = nil, keyFile: String? = nil,
                prefix: String = EtcdConfiguration.defaultPrefix, requestTimeout: Duration = .seconds(10)) throws(StorageError) {
        var endpoints: [Endpoint] = []
        for server in servers.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !server.isEmpty {
            guard let url = URL(string: server), let scheme = url.scheme, ["http", "https"].contains(scheme),
                  let host = url.host, !host.isEmpty else {
                throw .io("invalid etcd server \"\(server)\": want http://HOST:PORT or https://HOST:PORT")
            }
            endpoints.append(Endpoint(host: host, port: url.port ?? 2379, secure: scheme == "https"))
        }
        if endpoints.isEmpty { throw .io("no etcd servers given") }
        if Set(endpoints.map(\.secure)).count > 1 { throw .io("etcd servers mix http and https") }
        if (certFile == nil) != (keyFile == nil) { throw .io("an etcd client certificate needs both --etcd-certfile and --etcd-keyfile") }
        for file in [caFile, certFile, keyFile].compactMap({ $0 }) where !FileManager.default.isReadableFile(atPath: file) {
            throw .io("cannot read \(file)")
        }
        guard prefix.hasPrefix("/") else { throw .io("the etcd prefix must start with /: \(prefix)") }
        self.endpoints = endpoints
        self.caFile = caFile
        self.certFile = certFile
        self.keyFile = keyFile
        self.prefix = prefix.count > 1 && prefix.hasSuffix("/") ? String(prefix.dropLast()) : prefix
        self.requestTimeout = requestTimeout
    }

    public var secure: Bool { endpoints.first?.secure ?? false }
}
