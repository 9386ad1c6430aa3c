import Crypto
import Foundation
import SwiftASN1
import X509

/// The certificates localkube serves with when run on its own: a CA and a serving certificate it
/// signs, kept in DATA/pki so restarts reuse them. (`cubby start` brings a full cluster PKI.)
struct SelfSignedPKI {
    let caPEM: String
    let certificatePEM: String
    let keyPEM: String

    static func loadOrCreate(in dir: URL) throws -> SelfSignedPKI {
        let fm = FileManager.default
        let ca = dir.appendingPathComponent("ca.crt"), crt = dir.appendingPathComponent("apiserver.crt"), key = dir.appendingPathComponent("apiserver.key")
        if let c = try? String(contentsOf: ca, encoding: .utf8), let s = try? String(contentsOf: crt, encoding: .utf8),
           let k = try? String(contentsOf: key, encoding: .utf8) {
            return SelfSignedPKI(caPEM: c, certificatePEM: s, keyPEM: k)
        }
        try fm.createDirectory(at: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let pki = try generate()
        try AtomicFile.write(pki.caPEM, to: ca, mode: 0o644)
        try AtomicFile.write(pki.certificatePEM, to: crt, mode: 0o644)
        try AtomicFile.write(pki.keyPEM, to: key, mode: 0o600)
        return pki
    }

    static func generate() throws -> SelfSignedPKI {
        let now = Date()
        let caKey = P256.Signing.PrivateKey()
        let caName = try DistinguishedName { CommonName("cubby-ca") }
        let caCert = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(caKey.publicKey),
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(10 * 365 * 86400),
            issuer: caName, subject: caName, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true))
            },
            issuerPrivateKey: .init(caKey))
        let key = P256.Signing.PrivateKey()
        var names: [GeneralName] = ["localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
                                    "kubernetes.default.svc.cluster.local"].map { .dnsName($0) }
        names += [[127, 0, 0, 1], [10, 96, 0, 1]].map { .ipAddress(ASN1OctetString(contentBytes: ArraySlice($0))) }
        if let host = ProcessInfo.processInfo.hostName as String?, !host.isEmpty { names.append(.dnsName(host)) }
        let cert = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(365 * 86400),
            issuer: caName, subject: try DistinguishedName { CommonName("kube-apiserver") }, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(names)
            },
            issuerPrivateKey: .init(caKey))
        return SelfSignedPKI(caPEM: try caCert.serializeAsPEM().pemString,
                             certificatePEM: try cert.serializeAsPEM().pemString,
                             keyPEM: key.pemRepresentation)
    }
}
