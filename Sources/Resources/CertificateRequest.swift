import Foundation
import SwiftASN1
import X509

/// A PEM block as Go's encoding/pem reads one: its type, its headers' presence, its DER bytes.
public struct PEMBlock: Sendable {
    public var type: String
    public var hasHeaders: Bool
    public var der: [UInt8]

    /// Every block of `text` in order, skipping what lies between them, as repeated pem.Decode
    /// calls do; a block whose body is not base64 ends the scan.
    public static func blocks(_ text: String) -> [PEMBlock] {
        var blocks: [PEMBlock] = []
        var rest = Substring(text)
        while let begin = rest.range(of: "-----BEGIN ") {
            let afterBegin = rest[begin.upperBound...]
            guard let typeEnd = afterBegin.range(of: "-----") else { break }
            let type = String(afterBegin[..<typeEnd.lowerBound])
            let body = afterBegin[typeEnd.upperBound...]
            guard let end = body.range(of: "-----END \(type)-----") else { break }
            var lines = body[..<end.lowerBound].split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            let hasHeaders = lines.contains { $0.contains(":") }
            if hasHeaders { lines = Array(lines.drop { !$0.isEmpty && $0.contains(":") }) }
            guard let der = Data(base64Encoded: lines.joined()) else { break }
            blocks.append(PEMBlock(type: type, hasHeaders: hasHeaders, der: Array(der)))
            rest = body[end.upperBound...]
        }
        return blocks
    }
}

/// A CertificateSigningRequest's spec.request: base64 of a PEM "CERTIFICATE REQUEST" block, read
/// and checked as upstream's certificates.ParseCSR and CheckSignature do, with their words.
public enum CertificateRequest {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// The request's bytes (the field's base64 decoded).
    public static func bytes(_ field: String?) -> [UInt8] {
        Array(Data(base64Encoded: field ?? "") ?? Data())
    }

    /// The PKCS#10 request with a valid signature, or what is wrong with it.
    public static func parse(_ pem: [UInt8]) throws(Failure) -> CertificateSigningRequest {
        guard let block = PEMBlock.blocks(String(decoding: pem, as: UTF8.self)).first, block.type == "CERTIFICATE REQUEST" else {
            throw Failure(description: "PEM block type must be CERTIFICATE REQUEST")
        }
        let csr: CertificateSigningRequest
        do {
            csr = try CertificateSigningRequest(derEncoded: block.der)
        } catch {
            throw Failure(description: "x509: malformed certificate request")
        }
        guard csr.publicKey.isValidSignature(csr.signature, for: csr) else {
            let rsa = csr.signatureAlgorithm.description.lowercased().contains("rsa")
            throw Failure(description: rsa ? "crypto/rsa: verification error" : "x509: ECDSA verification failure")
        }
        return csr
    }

    /// The usages upstream knows, each with the key usage or extended key usage it stands for in
    /// an issued certificate (upstream's keyUsageDict and extKeyUsageDict).
    public enum Usage {
        public static let keyUsages: [String: WritableKeyPath<KeyUsage, Bool> & Sendable] = [
            "signing": \.digitalSignature, "digital signature": \.digitalSignature, "content commitment": \.nonRepudiation,
            "key encipherment": \.keyEncipherment, "key agreement": \.keyAgreement, "data encipherment": \.dataEncipherment,
            "cert sign": \.keyCertSign, "crl sign": \.cRLSign, "encipher only": \.encipherOnly, "decipher only": \.decipherOnly,
        ]
        public static let extendedKeyUsages: [String: ExtendedKeyUsage.Usage] = [
            "any": .any, "server auth": .serverAuth, "client auth": .clientAuth, "code signing": .codeSigning,
            "email protection": .emailProtection, "s/mime": .emailProtection, "timestamping": .timeStamping,
            "ocsp signing": .ocspSigning,
            "ipsec end system": .init(oid: [1, 3, 6, 1, 5, 5, 7, 3, 5]), "ipsec tunnel": .init(oid: [1, 3, 6, 1, 5, 5, 7, 3, 6]),
            "ipsec user": .init(oid: [1, 3, 6, 1, 5, 5, 7, 3, 7]),
            "microsoft sgc": .init(oid: [1, 3, 6, 1, 4, 1, 311, 10, 3, 3]), "netscape sgc": .init(oid: [2, 16, 840, 1, 113730, 4, 1]),
        ]
        public static var all: [String] { (Array(keyUsages.keys) + Array(extendedKeyUsages.keys)).sorted() }
    }

    /// The subject's organizations (its groups, to the API server).
    public static func organizations(_ csr: CertificateSigningRequest) -> [String] {
        csr.subject.flatMap { $0 }.compactMap { attribute in
            attribute.type == .RDNAttributeType.organizationName ? String(describing: attribute.value) : nil
        }
    }

    public static func commonName(_ csr: CertificateSigningRequest) -> String? {
        csr.subject.flatMap { $0 }.first { $0.type == .RDNAttributeType.commonName }.map { String(describing: $0.value) }
    }

    /// The subject alternative names the request asks for.
    public static func alternativeNames(_ csr: CertificateSigningRequest) -> [GeneralName] {
        guard let extensions = try? csr.attributes.extensionRequest?.extensions,
              let names = try? extensions.subjectAlternativeNames else { return [] }
        return Array(names)
    }
}
