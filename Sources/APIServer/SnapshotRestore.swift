import APIMachinery
import Hummingbird
import NIOCore

/// `POST /cubby/v1/restore` with `{"file": "restoring-....db"}`: `cubby snapshot restore` on a
/// running cluster. The CLI puts a copy of the snapshot's store file into localkube's data
/// directory and names it here (a name in that directory only: the request cannot point the server
/// at any other file); the answer says how many objects the cluster holds now and from which
/// revision on. Not an upstream path: authorized as a non-resource URL, so only those RBAC lets
/// post to it (cluster-admin, system:masters) may replace the cluster's objects.
public struct SnapshotRestore: Sendable {
    public static let path = "/cubby/v1/restore"

    public let restore: @Sendable (_ file: String) async throws(StatusError) -> JSON

    public init(restore: @escaping @Sendable (_ file: String) async throws(StatusError) -> JSON) {
        self.restore = restore
    }

    /// What a file handed to a restore may be called.
    public static func isValidFileName(_ name: String) -> Bool {
        name.hasPrefix("restoring-") && name.hasSuffix(".db") && name.utf8.count <= 128
            && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == ".") } && !name.contains("..")
    }

    func serve(_ request: Request) async throws(StatusError) -> Response {
        guard request.method == .post else { throw .methodNotAllowed() }
        var request = request
        let body: ByteBuffer
        do { body = try await request.collectBody(upTo: APIHandler.maxBodyBytes) } catch {
            throw .requestEntityTooLarge(limit: APIHandler.maxBodyBytes)
        }
        guard let file = (try? JSON.parse(Array(body.readableBytesView)))?["file"].string, Self.isValidFileName(file) else {
            throw .badRequest(#"the body must be {"file": "restoring-NAME.db"}, naming a file in the data directory"#)
        }
        return APIHandler.json(try await restore(file))
    }
}
