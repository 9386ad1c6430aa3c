import Foundation

/// The admin kubeconfig localkube writes beside its data, so `KUBECONFIG=DIR/kubeconfig kubectl`
/// reaches it.
enum AdminKubeconfig {
    static func render(name: String, server: String, caPEM: String, token: String) -> String {
        let ca = Data(caPEM.utf8).base64EncodedString()
        return """
            apiVersion: v1
            kind: Config
            clusters:
            - cluster:
                certificate-authority-data: \(ca)
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
                token: \(token)

            """
    }
}
