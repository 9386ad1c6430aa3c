import APIMachinery
import Hummingbird
import NIOCore

/// `POST /cubby/v1/restore`: `cubby snapshot restore` on a running cluster. The body is the
/// snapshot's store file; the answer says how many objects the cluster holds now and from which
/// revision on. Not an upstream path: authorized as a non-resource URL, so only those RBAC lets
/// post to it (cluster-admin, system:masters) may replace the cluster's objects.
public struct SnapshotRestore: Sendable {
    public static let path = "/cubby/v1/restore"
    /// A whole store, well above API bodies' 3 MiB (10,000 configmaps make about 15 MB).
    static let maxBodyBytes = 1 << 30

    public let restore: @Sendable (ByteBuffer) async throws(StatusError) -> JSON

    public init(restore: @escaping @Sendable (ByteBuffer) async throws(StatusError) -> JSON) {
        self.restore = restore
    }

    func serve(_ request: Request) async throws(StatusError) -> Response {
        guard request.method == .post else { throw .methodNotAllowed() }
        var request = request
        let body: ByteBuffer
        do { body = try await request.collectBody(upTo: Self.maxBodyBytes) } catch {
            throw .requestEntityTooLarge(limit: Self.maxBodyBytes)
        }
        return APIHandler.json(try await restore(body))
    }
}
