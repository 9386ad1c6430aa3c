import Crypto
import Foundation
import SwiftASN1
import X509

/// The certificates of a profile's own etcd, signed by the cluster's CA as kubeadm signs its
/// etcd's: etcd-server.crt/.key (for 127.0.0.1 and localhost; client use too, since etcd's gateway
/// calls etcd itself with it) and apiserver-etcd-client.crt/.key, which localkube presents. etcd
/// accepts only clients with a certificate of that CA.
public enum EtcdCertificates {
    public struct Files: Sendable {
        public var ca: String
        public var serverCertificate: String
        public var serverKey: String
        public var clientCertificate: String
        public var clientKey: String
    }

    /// Makes the cluster's PKI if it is not there yet, then whichever etcd certificate is missing
    /// or near its end (renewed as the cluster's own are).
    public static func ensure(in pki: URL, now: Date = Date()) throws -> Files {
        _ = try SelfSignedPKI.loadOrCreate(in: pki, now: now)
        let lock = try DirectoryLock(pki)
        defer { lock.release() }
        func file(_ name: String) -> URL { pki.appendingPathComponent(name) }
        let files = Files(ca: file("ca.crt").path, serverCertificate: file("etcd-server.crt").path, serverKey: file("etcd-server.key").path,
                          clientCertificate: file("apiserver-etcd-client.crt").path, clientKey: file("apiserver-etcd-client.key").path)
        let have = { (path: String) in FileManager.default.fileExists(atPath: path) }
        let current = { (path: String) in !SelfSignedPKI.expiresSoon(try? String(contentsOfFile: path, encoding: .utf8), now: now) }
        if current(files.serverCertificate) && have(files.serverKey) && current(files.clientCertificate) && have(files.clientKey) { return files }
        let ca = try Certificate(pemEncoded: String(contentsOf: file("ca.crt"), encoding: .utf8))
        let caKey = try P256.Signing.PrivateKey(pemRepresentation: String(contentsOf: file("ca.key"), encoding: .utf8))
        let loopback: [GeneralName] = [.dnsName("localhost"), .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1]))]
        let (serverCert, serverKey) = try SelfSignedPKI.issue(by: ca, caKey, subject: try DistinguishedName { CommonName("etcd-server") },
                                                              usage: [.serverAuth, .clientAuth], names: loopback)
        try AtomicFile.write(serverKey.pemRepresentation, to: URL(fileURLWithPath: files.serverKey), mode: 0o600)
        try AtomicFile.write(try serverCert.serializeAsPEM().pemString, to: URL(fileURLWithPath: files.serverCertificate), mode: 0o644)
        let (clientCert, clientKey) = try SelfSignedPKI.issue(by: ca, caKey, subject: try DistinguishedName { CommonName("kube-apiserver-etcd-client") },
                                                              usage: [.clientAuth], names: [])
        try AtomicFile.write(clientKey.pemRepresentation, to: URL(fileURLWithPath: files.clientKey), mode: 0o600)
        try AtomicFile.write(try clientCert.serializeAsPEM().pemString, to: URL(fileURLWithPath: files.clientCertificate), mode: 0o644)
        return files
    }
}
