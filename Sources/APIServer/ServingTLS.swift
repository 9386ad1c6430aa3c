import NIOSSL
import Synchronization

/// The API server's TLS, as upstream's secure serving sets it up: TLS 1.2 at least, Go's default
/// cipher suites for 1.2 (ECDHE with AES-GCM, ChaCha20-Poly1305 or AES-CBC; 1.3 has its own), a
/// client certificate asked for but not required. The serving certificate can be replaced while
/// serving (renewal): each new connection takes the newest, as upstream's dynamic serving
/// certificates do; connections already open keep theirs.
public final class ServingTLS: Sendable {
    private let context: Mutex<NIOSSLContext>
    private let clientCAPEM: [UInt8]?

    static let cipherSuites: [NIOTLSCipher] = [
        .TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, .TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        .TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, .TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        .TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, .TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        .TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, .TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
        .TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, .TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
    ]

    public init(certificatePEM: [UInt8], privateKeyPEM: [UInt8], clientCAPEM: [UInt8]?) throws {
        self.clientCAPEM = clientCAPEM
        context = Mutex(try Self.context(certificatePEM, privateKeyPEM, clientCAPEM))
    }

    /// The context for the next connection.
    var current: NIOSSLContext { context.withLock { $0 } }

    /// Serves a renewed certificate from the next connection on.
    public func replace(certificatePEM: [UInt8], privateKeyPEM: [UInt8]) throws {
        let fresh = try Self.context(certificatePEM, privateKeyPEM, clientCAPEM)
        context.withLock { $0 = fresh }
    }

    static func context(_ certificatePEM: [UInt8], _ keyPEM: [UInt8], _ clientCAPEM: [UInt8]?) throws -> NIOSSLContext {
        let certs = try NIOSSLCertificate.fromPEMBytes(certificatePEM)
        let key = try NIOSSLPrivateKey(bytes: keyPEM, format: .pem)
        var tls = TLSConfiguration.makeServerConfiguration(certificateChain: certs.map { .certificate($0) }, privateKey: .privateKey(key))
        tls.minimumTLSVersion = .tlsv12
        tls.cipherSuiteValues = cipherSuites
        tls.applicationProtocols = ["h2", "http/1.1"]
        if let clientCAPEM {
            // Token and password clients present none.
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(clientCAPEM))
            tls.certificateVerification = .optionalVerification
        }
        return try NIOSSLContext(configuration: tls)
    }
}
