import Crypto
import Foundation
import SwiftASN1
import X509

/// The cluster's PKI, kept in DATA/pki so restarts reuse it: a CA (ca.crt, ca.key), the API
/// server's serving certificate (apiserver.crt/.key, for 127.0.0.1, localhost, the host name, the
/// `kubernetes` service names and 10.96.0.1), the admin's client certificate (admin.crt/.key,
/// CN=kubernetes-admin, O=system:masters) and the service-account signing key (sa.key).
/// Files missing from an older data dir are added. The CA lasts ten years and is never replaced;
/// the certificates it signs last one year and are issued again, by the same CA, when less than
/// 30 days remain (kubeadm's `certs renew`, done at every start and by a running localkube), so
/// a cluster made today still works next year and kubeconfigs that trust the CA keep working.
public struct SelfSignedPKI: Sendable {
    let caPEM: String
    let certificatePEM: String
    let keyPEM: String
    /// The admin client certificate and key, when the CA key is at hand to sign them.
    let adminCertificatePEM: String?
    let adminKeyPEM: String?
    let serviceAccountKeyPEM: String?
    /// The CA's key, for the controller manager's signers; nil when the profile keeps none.
    let caKeyPEM: String?

    /// `addresses`: IPs the serving certificate must name besides 127.0.0.1 (the cluster bridge's,
    /// the `kubernetes` service's); a certificate without one of them is issued again.
    static func loadOrCreate(in dir: URL, addresses: [String] = ["10.96.0.1"], now: Date = Date()) throws -> SelfSignedPKI {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        // `cubby start` and a running localkube may renew at the same moment: one at a time, so
        // a certificate and its key always come from the same issue.
        let lock = try DirectoryLock(dir)
        defer { lock.release() }
        func file(_ name: String) -> URL { dir.appendingPathComponent(name) }
        func read(_ name: String) -> String? { try? String(contentsOf: file(name), encoding: .utf8) }

        var caPEM = read("ca.crt"), caKeyPEM = read("ca.key")
        if caPEM == nil {
            let (cert, key) = try makeCA()
            try AtomicFile.write(key.pemRepresentation, to: file("ca.key"), mode: 0o600)
            try AtomicFile.write(try cert.serializeAsPEM().pemString, to: file("ca.crt"), mode: 0o644)
            caPEM = try cert.serializeAsPEM().pemString
            caKeyPEM = key.pemRepresentation
        }
        guard let caPEM else { throw CocoaError(.fileReadCorruptFile) }
        let ca = try Certificate(pemEncoded: caPEM)
        let caKey = try caKeyPEM.map { try P256.Signing.PrivateKey(pemRepresentation: $0) }

        // A renewal names what the certificate it replaces named (`cubby start` does not know the
        // node's addresses; localkube does).
        let names = servingNames(addresses, keeping: read("apiserver.crt"))
        if read("apiserver.key") == nil || !covers(read("apiserver.crt"), names) || expiresSoon(read("apiserver.crt"), now: now) {
            guard let caKey else { throw PKIError("pki/ca.key is missing: cannot sign a new serving certificate") }
            let (cert, key) = try issue(by: ca, caKey, subject: DistinguishedName { CommonName("kube-apiserver") },
                                        usage: [.serverAuth], names: names)
            try AtomicFile.write(key.pemRepresentation, to: file("apiserver.key"), mode: 0o600)
            try AtomicFile.write(try cert.serializeAsPEM().pemString, to: file("apiserver.crt"), mode: 0o644)
        }
        if read("admin.crt") == nil || expiresSoon(read("admin.crt"), now: now), let caKey {
            let subject = try DistinguishedName {
                OrganizationName("system:masters")
                CommonName("kubernetes-admin")
            }
            let (cert, key) = try issue(by: ca, caKey, subject: subject, usage: [.clientAuth], names: [])
            try AtomicFile.write(key.pemRepresentation, to: file("admin.key"), mode: 0o600)
            try AtomicFile.write(try cert.serializeAsPEM().pemString, to: file("admin.crt"), mode: 0o600)
        }
        if read("sa.key") == nil {
            try AtomicFile.write(P256.Signing.PrivateKey().pemRepresentation, to: file("sa.key"), mode: 0o600)
        }
        guard let servingPEM = read("apiserver.crt"), let servingKey = read("apiserver.key") else {
            throw PKIError("pki/apiserver.crt or .key cannot be read")
        }
        return SelfSignedPKI(caPEM: caPEM, certificatePEM: servingPEM, keyPEM: servingKey,
                             adminCertificatePEM: read("admin.crt"), adminKeyPEM: read("admin.key"), serviceAccountKeyPEM: read("sa.key"),
                             caKeyPEM: caKeyPEM)
    }

    struct PKIError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// How long before its end a certificate is issued again, as kubeadm's renewal advice.
    static let renewalWindow: TimeInterval = 30 * 86400

    /// Whether a certificate is missing, unreadable, or ends within the renewal window.
    static func expiresSoon(_ pem: String?, now: Date) -> Bool {
        guard let pem, let cert = try? Certificate(pemEncoded: pem) else { return true }
        return cert.notValidAfter.timeIntervalSince(now) < renewalWindow
    }

    /// When each certificate of the profile's PKI ends, by file name, soonest first; for
    /// `cubby status`.
    public static func expiries(in dir: URL) -> [(file: String, notValidAfter: Date)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { $0.hasSuffix(".crt") }.compactMap { name -> (String, Date)? in
            guard let pem = try? String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8),
                  let cert = try? Certificate(pemEncoded: pem) else { return nil }
            return (name, cert.notValidAfter)
        }.sorted { $0.1 < $1.1 }
    }

    static func makeCA() throws -> (Certificate, P256.Signing.PrivateKey) {
        let now = Date()
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName { CommonName("cubby-ca") }
        let cert = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(10 * 365 * 86400),
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true))
            },
            issuerPrivateKey: .init(key))
        return (cert, key)
    }

    /// Whether the certificate names every IP address of `names`.
    static func covers(_ pem: String?, _ names: [GeneralName]) -> Bool {
        guard let pem, let cert = try? Certificate(pemEncoded: pem),
              let present = try? cert.extensions.subjectAlternativeNames else { return false }
        return names.allSatisfy { name in
            if case .ipAddress = name { return present.contains(name) }
            return true
        }
    }

    /// Issues again, by the same CA, whichever certificate of an existing profile's PKI ends
    /// within 30 days; nothing when the profile has no PKI yet (its first start makes one).
    public static func renew(in dir: URL, now: Date = Date()) throws {
        guard FileManager.default.fileExists(atPath: dir.appendingPathComponent("ca.crt").path) else { return }
        _ = try loadOrCreate(in: dir, addresses: [], now: now)
    }

    static func servingNames(_ addresses: [String], keeping pem: String? = nil) -> [GeneralName] {
        var names: [GeneralName] = ["localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
                                    "kubernetes.default.svc.cluster.local"].map { .dnsName($0) }
        let octets = (["127.0.0.1"] + addresses).map { $0.split(separator: ".").compactMap { UInt8($0) } }.filter { $0.count == 4 }
        names += octets.map { .ipAddress(ASN1OctetString(contentBytes: ArraySlice($0))) }
        let host = ProcessInfo.processInfo.hostName
        if !host.isEmpty, host != "localhost" { names.append(.dnsName(host)) }
        if let pem, let cert = try? Certificate(pemEncoded: pem), let present = try? cert.extensions.subjectAlternativeNames {
            names += present.filter { !names.contains($0) }
        }
        return names
    }

    static func issue(by ca: Certificate, _ caKey: P256.Signing.PrivateKey, subject: DistinguishedName,
                      usage: [ExtendedKeyUsage.Usage], names: [GeneralName]) throws -> (Certificate, P256.Signing.PrivateKey) {
        let now = Date()
        let key = P256.Signing.PrivateKey()
        let cert = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(365 * 86400),
            issuer: ca.subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
                try ExtendedKeyUsage(usage)
                if !names.isEmpty { SubjectAlternativeNames(names) }
            },
            issuerPrivateKey: .init(caKey))
        return (cert, key)
    }
}
