import APIMachinery
import Foundation

/// The static users upstream reads from --token-auth-file and --basic-auth-file: CSV lines
/// `secret,user,uid[,"group1,group2"]`. Lines that do not parse are skipped, as blank ones are.
public struct StaticCredentials: Sendable {
    var users: [String: UserInfo] = [:]

    public init() {}

    public init(csv: String) {
        for line in csv.split(whereSeparator: \.isNewline) {
            let fields = Self.fields(String(line))
            guard fields.count >= 3, !fields[0].isEmpty, !fields[1].isEmpty else { continue }
            let groups = fields.count > 3 ? fields[3].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } : []
            users[fields[0]] = UserInfo(name: fields[1], uid: fields[2], groups: groups)
        }
    }

    /// The file's users; a missing file has none.
    public static func load(_ url: URL) -> StaticCredentials {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return StaticCredentials() }
        return StaticCredentials(csv: text)
    }

    public mutating func add(secret: String, _ user: UserInfo) { users[secret] = user }

    func user(for secret: String) -> UserInfo? { users[secret] }

    /// CSV fields: commas split, except between double quotes.
    static func fields(_ line: String) -> [String] {
        var fields: [String] = [], current = "", quoted = false
        for c in line {
            switch c {
            case "\"": quoted.toggle()
            case "," where !quoted:
                fields.append(current.trimmingCharacters(in: .whitespaces))
                current = ""
            default: current.append(c)
            }
        }
        fields.append(current.trimmingCharacters(in: .whitespaces))
        return fields
    }
}
