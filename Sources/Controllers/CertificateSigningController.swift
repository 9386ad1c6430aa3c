import APIMachinery
import Client
import Foundation

/// Upstream's csrsigning controller: an approved (and not denied or failed) request of a signer
/// the cluster CA serves gets its certificate in status.certificate; one the signer's rules refuse
/// gets a Failed condition (reason SignerValidationFailure) instead. Requests of other signers are
/// left to whoever serves them.
public struct CertificateSigningController: Controller {
    public let name = "csrsigning"
    public let queue = WorkQueue()
    let requests: Informer
    let client: ResourceClient
    let signer: ClusterSigner

    public init(client: Client, informers: InformerFactory, signer: ClusterSigner) {
        self.client = client.resource("certificates.k8s.io", "v1", "certificatesigningrequests")
        requests = informers.informer("certificates.k8s.io", "v1", "certificatesigningrequests")
        self.signer = signer
    }

    public func register() async {
        let queue = queue
        await requests.addHandler { event in
            if case .deleted = event { return }
            queue.add(Informer.key(event.object))
        }
        await requests.waitForSync()
    }

    static func hasCondition(_ csr: JSON, _ type: String) -> Bool {
        (csr["status"]["conditions"].array ?? []).contains { $0["type"].string == type && $0["status"].string == "True" }
    }

    public func reconcile(_ key: String) async throws {
        guard let csr = await requests.get(key) else { return }
        let spec = csr["spec"]
        guard Self.hasCondition(csr, "Approved"), !Self.hasCondition(csr, "Denied"), !Self.hasCondition(csr, "Failed"),
              (csr["status"]["certificate"].string ?? "").isEmpty,
              let signerName = spec["signerName"].string, ClusterSigner.signerNames.contains(signerName) else { return }
        let update: @Sendable (inout JSON) -> Void
        do {
            let pem = try signer.sign(request: Array(Data(base64Encoded: spec["request"].string ?? "") ?? Data()), signerName: signerName,
                                      usages: (spec["usages"].array ?? []).compactMap(\.string), expirationSeconds: spec["expirationSeconds"].int)
            let certificate = JSON.string(Data(pem.utf8).base64EncodedString())
            update = { csr in
                if (csr["status"]["certificate"].string ?? "").isEmpty { csr["status"]["certificate"] = certificate }
            }
        } catch let refusal as ClusterSigner.Refusal {
            let failed: JSON = ["type": "Failed", "status": "True", "reason": "SignerValidationFailure",
                                "message": .string(refusal.description), "lastUpdateTime": .string(APITime.format(Date()))]
            update = { csr in
                guard !Self.hasCondition(csr, "Failed") else { return }
                csr["status"]["conditions"] = .array((csr["status"]["conditions"].array ?? []) + [failed])
            }
        }
        do throws(StatusError) {
            try await client.modify(nil, csr["metadata"]["name"].string ?? key, status: true, update)
        } catch {
            if error.code != 404 { throw error }
        }
    }
}
