import Hummingbird
import NIOCore
import NIOSSL
import X509

/// The request context: Hummingbird's core storage plus the connection, so a request can be
/// authenticated by the client certificate its TLS handshake presented.
struct APIRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    /// The verified client certificate of the connection, if any. The TLS handler sits on the
    /// channel itself for HTTP/1.1 and on the stream's parent for HTTP/2 (an HTTP/1.1 channel's
    /// parent is the listening socket, so the channel is asked first).
    static func clientCertificate(_ channel: any Channel) async -> Certificate? {
        for candidate in [channel, channel.parent].compactMap({ $0 }) {
            // Read on the channel's event loop: the handler is not thread-safe.
            let peer: NIOSSLCertificate?
            do { peer = try await candidate.nioSSL_peerCertificate().get() } catch { continue }
            return peer.flatMap { try? Certificate(derEncoded: $0.toDERBytes()) }
        }
        return nil
    }
}
