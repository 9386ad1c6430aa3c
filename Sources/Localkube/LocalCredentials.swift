import APIMachinery
import APIServer
import Foundation

/// The static users of a cluster, kept beside its data in upstream's CSV formats: `tokens.csv`
/// (bearer tokens) and `basic-auth.csv` (passwords), each line `secret,user,uid,"group1,group2"`.
/// basic-auth.csv is made on first start with a generated password for `admin` (system:masters),
/// 0600; a person may add lines to either file, read at each start. The admin's bearer token
/// (the `token` file) is always accepted.
struct LocalCredentials {
    var tokens: StaticCredentials
    var passwords: StaticCredentials

    static let adminUser = "admin"

    static func loadOrCreate(in dir: URL, adminToken: String) throws -> LocalCredentials {
        let basic = dir.appendingPathComponent("basic-auth.csv")
        if !FileManager.default.fileExists(atPath: basic.path) {
            try AtomicFile.write("\(randomPassword()),\(adminUser),\(adminUser),\"system:masters\"\n", to: basic, mode: 0o600)
        }
        var tokens = StaticCredentials.load(dir.appendingPathComponent("tokens.csv"))
        tokens.add(secret: adminToken, UserInfo(name: "kubernetes-admin", groups: ["system:masters"]))
        return LocalCredentials(tokens: tokens, passwords: StaticCredentials.load(basic))
    }

    /// 24 letters and digits: ~143 bits, and nothing a shell or CSV would mangle.
    static func randomPassword() -> String {
        let alphabet = Array("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<24).map { _ in alphabet.randomElement(using: &generator)! })
    }
}
