import Crypto
import Foundation
import Resources
import SwiftASN1
import X509

/// The cluster CA as the controller manager's signers use it (kube-controller-manager's
/// --cluster-signing-cert-file/--cluster-signing-key-file): each built-in signer's rules for what
/// it will sign, and upstream's permissive signing policy for what it issues.
public struct ClusterSigner: Sendable {
    /// The signers this CA serves, as upstream's csrsigning controller runs them.
    public static let signerNames: Set<String> = [
        "kubernetes.io/kube-apiserver-client", "kubernetes.io/kube-apiserver-client-kubelet", "kubernetes.io/kubelet-serving",
    ]
    /// upstream's --cluster-signing-duration default.
    public static let defaultTTL: TimeInterval = 365 * 86400
    /// A certificate starts this long before it is issued (clock skew); twice it is the shortest
    /// lifetime issued.
    static let backdate: TimeInterval = 5 * 60
    /// Below this lifetime the backdate is taken out of it, so a short certificate lasts what was asked.
    static let short: TimeInterval = 8 * 3600

    /// A request this signer refuses, in upstream's words (the Failed condition's message).
    public struct Refusal: Error, CustomStringConvertible {
        public let description: String
    }

    let ca: Certificate
    let key: Certificate.PrivateKey
    let ttl: TimeInterval

    public init(caPEM: String, keyPEM: String, ttl: TimeInterval = ClusterSigner.defaultTTL) throws {
        ca = try Certificate(pemEncoded: caPEM)
        key = Certificate.PrivateKey(try P256.Signing.PrivateKey(pemRepresentation: keyPEM))
        self.ttl = ttl
    }

    /// The PEM certificate for a request of `signerName` with these usages, or why not.
    public func sign(request pem: [UInt8], signerName: String, usages: [String], expirationSeconds: Int64?,
                     now: Date = Date()) throws -> String {
        let csr: CertificateSigningRequest
        do { csr = try CertificateRequest.parse(pem) } catch { throw Refusal(description: "unable to parse csr: \(error)") }
        try Self.check(csr, signerName: signerName, usages: Set(usages))
        var keyUsage = KeyUsage()
        var extended: [ExtendedKeyUsage.Usage] = []
        for usage in usages {
            if let bit = CertificateRequest.Usage.keyUsages[usage] { keyUsage[keyPath: bit] = true }
            else if let ext = CertificateRequest.Usage.extendedKeyUsages[usage] { if !extended.contains(ext) { extended.append(ext) } }
            else { throw Refusal(description: "unrecognized usage: \(usage)") }
        }
        let lifetime = duration(expirationSeconds)
        let notBefore = now.addingTimeInterval(-Self.backdate)
        var notAfter = lifetime < Self.short ? notBefore.addingTimeInterval(lifetime) : now.addingTimeInterval(lifetime)
        notAfter = min(notAfter, ca.notValidAfter)
        let names = CertificateRequest.alternativeNames(csr).filter {
            switch $0 {
            case .dnsName, .ipAddress, .rfc822Name, .uniformResourceIdentifier: return true
            default: return false
            }
        }
        let authorityKey = try? ca.extensions.subjectKeyIdentifier?.keyIdentifier
        let hasKeyUsage = keyUsage != KeyUsage()
        let certificate = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: csr.publicKey, notValidBefore: notBefore, notValidAfter: notAfter,
            issuer: ca.subject, subject: csr.subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                if hasKeyUsage { Critical(keyUsage) }
                if !extended.isEmpty { try ExtendedKeyUsage(extended) }
                Critical(BasicConstraints.notCertificateAuthority)
                if let authorityKey { AuthorityKeyIdentifier(keyIdentifier: authorityKey) }
                if !names.isEmpty { SubjectAlternativeNames(names) }
            },
            issuerPrivateKey: key)
        return try certificate.serializeAsPEM().pemString + "\n"
    }

    /// The lifetime issued: what was asked, within ten minutes and the signer's TTL.
    func duration(_ expirationSeconds: Int64?) -> TimeInterval {
        guard let expirationSeconds else { return ttl }
        return min(ttl, max(2 * Self.backdate, TimeInterval(expirationSeconds)))
    }

    /// Each signer's rules for what it signs (upstream's isRequestForSignerFn).
    static func check(_ csr: CertificateSigningRequest, signerName: String, usages: Set<String>) throws {
        switch signerName {
        case "kubernetes.io/kube-apiserver-client":
            for usage in usages.sorted() where !["digital signature", "key encipherment", "client auth"].contains(usage) {
                throw Refusal(description: "invalid usage for client certificate: \(usage)")
            }
            if !usages.contains("client auth") { throw Refusal(description: "missing required usage for client certificate: client auth") }
        case "kubernetes.io/kube-apiserver-client-kubelet":
            try checkNode(csr)
            let names = CertificateRequest.alternativeNames(csr)
            for (kind, present) in [("DNS", names.contains { if case .dnsName = $0 { true } else { false } }),
                                    ("Email", names.contains { if case .rfc822Name = $0 { true } else { false } }),
                                    ("IP", names.contains { if case .ipAddress = $0 { true } else { false } }),
                                    ("URI", names.contains { if case .uniformResourceIdentifier = $0 { true } else { false } })] where present {
                throw Refusal(description: "\(kind) subjectAltNames are not allowed")
            }
            try checkUsages(usages, ["digital signature", "key encipherment", "client auth"], optional: "key encipherment")
        case "kubernetes.io/kubelet-serving":
            try checkNode(csr)
            let names = CertificateRequest.alternativeNames(csr)
            if !names.contains(where: { if case .dnsName = $0 { true } else if case .ipAddress = $0 { true } else { false } }) {
                throw Refusal(description: "DNS or IP subjectAltName is required")
            }
            if names.contains(where: { if case .rfc822Name = $0 { true } else { false } }) { throw Refusal(description: "Email subjectAltNames are not allowed") }
            if names.contains(where: { if case .uniformResourceIdentifier = $0 { true } else { false } }) { throw Refusal(description: "URI subjectAltNames are not allowed") }
            try checkUsages(usages, ["digital signature", "key encipherment", "server auth"], optional: "key encipherment")
        default:
            throw Refusal(description: "signer \(signerName) is not served by this cluster's CA")
        }
    }

    /// A node's request: organization system:nodes alone, common name system:node:NAME.
    static func checkNode(_ csr: CertificateSigningRequest) throws {
        if CertificateRequest.organizations(csr) != ["system:nodes"] { throw Refusal(description: "subject organization is not system:nodes") }
        if !(CertificateRequest.commonName(csr) ?? "").hasPrefix("system:node:") {
            throw Refusal(description: "subject common name does not begin with system:node:")
        }
    }

    static func checkUsages(_ usages: Set<String>, _ required: Set<String>, optional: String) throws {
        guard usages == required || usages == required.subtracting([optional]) else {
            throw Refusal(description: "usages did not match [\(required.sorted().joined(separator: " "))]")
        }
    }
}
