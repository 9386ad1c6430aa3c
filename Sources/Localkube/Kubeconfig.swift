import Foundation

/// The admin kubeconfig localkube writes beside its data, so `KUBECONFIG=DIR/kubeconfig kubectl`
/// reaches it.
enum AdminKubeconfig {
    enum Credentials: Sendable {
        case clientCertificate(cert: String, key: String)
        case token(String)
    }

    static func render(name: String, server: String, caPEM: String, credentials: Credentials) -> String {
        func b64(_ s: String) -> String { Data(s.utf8).base64EncodedString() }
        let user: String
        switch credentials {
        case .clientCertificate(let cert, let key):
            user = "    client-certificate-data: \(b64(cert))\n    client-key-data: \(b64(key))"
        case .token(let token):
            user = "    token: \(token)"
        }
        return """
            apiVersion: v1
            kind: Config
            clusters:
            - cluster:
                certificate-authority-data: \(b64(caPEM))
                server: \(server)
              name: \(name)
            contexts:
            - context:
                cluster: \(name)
                user: \(name)-admin
              name: \(name)
            current-context: \(name)
            preferences: {}
            users:
            - name: \(name)-admin
              user:
            \(user)

            """
    }
}
