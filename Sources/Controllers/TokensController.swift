import APIMachinery
import Client
import Foundation

/// Upstream's service-account tokens controller, for the Secrets people still make by hand: a
/// Secret of type `kubernetes.io/service-account-token` naming an account in its
/// `kubernetes.io/service-account.name` annotation gets a token for that account (bound to the
/// Secret, so it stops working when the Secret goes), the cluster's CA and the namespace, and the
/// account's uid in `kubernetes.io/service-account.uid`.
public struct TokensController: Controller {
    public static let secretType = "kubernetes.io/service-account-token"
    public static let accountAnnotation = "kubernetes.io/service-account.name"
    public static let uidAnnotation = "kubernetes.io/service-account.uid"
    /// Signs a token for (namespace, account, account uid, secret name, secret uid).
    public typealias Issuer = @Sendable (String, String, String, String, String) async throws -> String

    public let name = "serviceaccount-token"
    public let queue = WorkQueue()
    let client: Client
    let secrets: Informer
    let caPEM: String
    let issue: Issuer

    public init(client: Client, informers: InformerFactory, caPEM: String, issue: @escaping Issuer) {
        self.client = client
        secrets = informers.informer("", "v1", "secrets")
        self.caPEM = caPEM
        self.issue = issue
    }

    public func register() async {
        let queue = queue
        await secrets.addHandler { event in
            if case .deleted = event { return }
            if event.object["type"].string == Self.secretType { queue.add(Informer.key(event.object)) }
        }
    }

    public func reconcile(_ key: String) async throws {
        guard let secret = await secrets.get(key), secret["type"].string == Self.secretType,
              secret["data"]["token"].isNull, secret["metadata"]["deletionTimestamp"].isNull,
              let account = secret["metadata"]["annotations"][Self.accountAnnotation].string else { return }
        let (namespace, name) = Informer.split(key)
        let sa: JSON
        do throws(StatusError) { sa = try await client.resource("", "v1", "serviceaccounts").get(namespace, account) } catch {
            if error.code == 404 { return }  // made once the account exists
            throw error
        }
        let uid = sa["metadata"]["uid"].string ?? ""
        let token = try await issue(namespace ?? "", account, uid, name, secret["metadata"]["uid"].string ?? "")
        let data: [String: String] = ["token": token, "ca.crt": caPEM, "namespace": namespace ?? ""]
        do throws(StatusError) {
            try await client.resource("", "v1", "secrets").modify(namespace, name) { s in
                for (k, v) in data { s["data"][k] = .string(Data(v.utf8).base64EncodedString()) }
                s["metadata"]["annotations"][Self.uidAnnotation] = .string(uid)
            }
        } catch {
            if error.code != 404 { throw error }
        }
    }
}
