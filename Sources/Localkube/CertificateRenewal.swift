import Foundation
import Logging
import Synchronization

/// Keeps a running localkube's certificates current, as upstream's apiserver reloads its serving
/// certificate from disk: once a minute, certificates within 30 days of their end are issued
/// again (by this process, or by `cubby start` meanwhile), and whatever changed on disk is served
/// from the next connection on. A cluster left running for a year keeps working.
final class CertificateRenewal: Sendable {
    let directory: URL
    let addresses: [String]
    let logger: Logger
    let interval: Duration
    private let served: Mutex<SelfSignedPKI>
    /// The port the API server listens on, once it does (the admin kubeconfig names it).
    let port = Mutex<Int?>(nil)

    init(directory: URL, addresses: [String], served: SelfSignedPKI, logger: Logger, interval: Duration = .seconds(60)) {
        self.directory = directory
        self.addresses = addresses
        self.logger = logger
        self.interval = interval
        self.served = Mutex(served)
    }

    func run(onRenewed: @Sendable (SelfSignedPKI, _ port: Int?) throws -> Void) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            do {
                let current = try SelfSignedPKI.loadOrCreate(in: directory, addresses: addresses)
                let before = served.withLock { $0 }
                guard current.certificatePEM != before.certificatePEM || current.adminCertificatePEM != before.adminCertificatePEM else { continue }
                try onRenewed(current, port.withLock { $0 })
                served.withLock { $0 = current }
                let ends = SelfSignedPKI.expiries(in: directory).first.map { " (the first to end now ends \($0.notValidAfter))" } ?? ""
                logger.notice("serving renewed certificates\(ends)")
            } catch {
                logger.error("cannot renew the certificates in \(directory.path): \(error)")
            }
        }
    }
}
