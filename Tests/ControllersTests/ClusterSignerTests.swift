import Controllers
import Crypto
import Foundation
import SwiftASN1
import X509
import XCTest

/// The cluster CA's signers: what each signs (upstream's rules, in its words) and what it issues.
final class ClusterSignerTests: XCTestCase {
    let caKey = P256.Signing.PrivateKey()

    func signer() throws -> ClusterSigner {
        let name = try DistinguishedName { CommonName("test-ca") }
        let now = Date()
        let ca = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(caKey.publicKey), notValidBefore: now - 60,
            notValidAfter: now + 10 * 365 * 86400, issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions { Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil)) },
            issuerPrivateKey: .init(caKey))
        return try ClusterSigner(caPEM: ca.serializeAsPEM().pemString, keyPEM: caKey.pemRepresentation)
    }

    func request(_ subject: DistinguishedName, names: [GeneralName] = []) throws -> [UInt8] {
        let key = P256.Signing.PrivateKey()
        var attributes = CertificateSigningRequest.Attributes()
        if !names.isEmpty {
            attributes.insert(try .init(ExtensionRequest(extensions: try Certificate.Extensions { SubjectAlternativeNames(names) })))
        }
        let csr = try CertificateSigningRequest(version: .v1, subject: subject, privateKey: .init(key), attributes: attributes,
                                                signatureAlgorithm: .ecdsaWithSHA256)
        return Array(try csr.serializeAsPEM().pemString.utf8)
    }

    func refusal(_ body: () throws -> String) -> String? {
        do { _ = try body(); return nil } catch { return "\(error)" }
    }

    func testClientCertificateHasTheSubjectTheUsagesAndTheLifetimeAsked() throws {
        let subject = try DistinguishedName { OrganizationName("devs"); CommonName("jane") }
        let now = Date()
        let pem = try signer().sign(request: request(subject), signerName: "kubernetes.io/kube-apiserver-client",
                                    usages: ["digital signature", "client auth"], expirationSeconds: 3600, now: now)
        let cert = try Certificate(pemEncoded: pem)
        XCTAssertEqual(cert.subject, subject)
        XCTAssertEqual(cert.issuer, try DistinguishedName { CommonName("test-ca") })
        XCTAssertEqual(try cert.extensions.extendedKeyUsage.map(Array.init), [.clientAuth])
        XCTAssertEqual(try cert.extensions.keyUsage?.digitalSignature, true)
        XCTAssertEqual(try cert.extensions.basicConstraints, .notCertificateAuthority)
        // Short lifetimes are what was asked, backdated five minutes.
        XCTAssertEqual(cert.notValidBefore.timeIntervalSince(now), -300, accuracy: 1)
        XCTAssertEqual(cert.notValidAfter.timeIntervalSince(cert.notValidBefore), 3600, accuracy: 1)
        XCTAssertTrue(Certificate.PublicKey(caKey.publicKey).isValidSignature(cert.signature, for: cert))
    }

    func testLifetimeIsCappedByTheSignersAndFloorsAtTenMinutes() throws {
        let s = try signer()
        let subject = try DistinguishedName { CommonName("jane") }
        func lifetime(_ seconds: Int64?) throws -> TimeInterval {
            let cert = try Certificate(pemEncoded: s.sign(request: request(subject), signerName: "kubernetes.io/kube-apiserver-client",
                                                          usages: ["client auth"], expirationSeconds: seconds))
            return cert.notValidAfter.timeIntervalSince(cert.notValidBefore)
        }
        XCTAssertEqual(try lifetime(nil), ClusterSigner.defaultTTL + 300, accuracy: 2)
        XCTAssertEqual(try lifetime(10 * 365 * 86400), ClusterSigner.defaultTTL + 300, accuracy: 2)
        XCTAssertEqual(try lifetime(60), 600, accuracy: 2)
    }

    func testEachSignerRefusesWhatItDoesNotSign() throws {
        let s = try signer()
        let jane = try request(DistinguishedName { CommonName("jane") })
        XCTAssertEqual(refusal { try s.sign(request: jane, signerName: "kubernetes.io/kube-apiserver-client", usages: ["server auth"], expirationSeconds: nil) },
                       "invalid usage for client certificate: server auth")
        XCTAssertEqual(refusal { try s.sign(request: jane, signerName: "kubernetes.io/kube-apiserver-client", usages: ["digital signature"], expirationSeconds: nil) },
                       "missing required usage for client certificate: client auth")
        XCTAssertEqual(refusal { try s.sign(request: jane, signerName: "kubernetes.io/kubelet-serving", usages: ["server auth"], expirationSeconds: nil) },
                       "subject organization is not system:nodes")
        let node = try DistinguishedName { OrganizationName("system:nodes"); CommonName("system:node:n1") }
        XCTAssertEqual(refusal { try s.sign(request: self.request(node), signerName: "kubernetes.io/kubelet-serving",
                                            usages: ["digital signature", "server auth"], expirationSeconds: nil) },
                       "DNS or IP subjectAltName is required")
        let serving = try request(node, names: [.dnsName("n1.local")])
        XCTAssertEqual(refusal { try s.sign(request: serving, signerName: "kubernetes.io/kubelet-serving", usages: ["server auth"], expirationSeconds: nil) },
                       "usages did not match [digital signature key encipherment server auth]")
        let cert = try Certificate(pemEncoded: s.sign(request: serving, signerName: "kubernetes.io/kubelet-serving",
                                                      usages: ["digital signature", "key encipherment", "server auth"], expirationSeconds: nil))
        XCTAssertEqual(try cert.extensions.subjectAlternativeNames.map(Array.init), [.dnsName("n1.local")])
        XCTAssertEqual(refusal { try s.sign(request: serving, signerName: "kubernetes.io/kube-apiserver-client-kubelet",
                                            usages: ["digital signature", "client auth"], expirationSeconds: nil) },
                       "DNS subjectAltNames are not allowed")
        XCTAssertEqual(refusal { try s.sign(request: Array("junk".utf8), signerName: "kubernetes.io/kube-apiserver-client", usages: ["client auth"], expirationSeconds: nil) },
                       "unable to parse csr: PEM block type must be CERTIFICATE REQUEST")
    }
}
