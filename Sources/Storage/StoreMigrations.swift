import Foundation
import GRDB

/// How a store written by an older cubby becomes the format this one writes: step N turns format
/// N into N+1. Every pending step runs in the transaction that records the new format, so a step
/// that fails leaves the store exactly as it was.
public enum StoreMigrations {
    public typealias Step = @Sendable (Database) throws -> Void

    /// Step N turns format N into N+1; the next change to the tables adds `2: { db in ... }` here
    /// and raises `SQLiteStore.formatVersion` to 3.
    public static let steps: [Int: Step] = [1: upstreamKeyLayout]

    /// Format 2 keeps objects under upstream's etcd keys (`/registry/deployments/NS/NAME`) rather
    /// than format 1's group-qualified ones (`/registry/apps/deployments/NS/NAME`). The prefixes
    /// are format 1's built-in resources, as they were: a migration is a record, not a lookup.
    static let upstreamKeyLayout: Step = { db in
        let rename = try db.makeStatement(sql: "UPDATE log SET key = ? || substr(key, ?) WHERE key >= ? AND key < ?")
        for (old, new) in format1Prefixes {
            try rename.execute(arguments: [new, old.utf8.count + 1, old, old.prefixEnd])
        }
    }

    static let format1Prefixes: [(String, String)] = [
        ("/registry/core/namespaces/", "/registry/namespaces/"),
        ("/registry/core/pods/", "/registry/pods/"),
        ("/registry/core/services/", "/registry/services/specs/"),
        ("/registry/core/endpoints/", "/registry/services/endpoints/"),
        ("/registry/core/configmaps/", "/registry/configmaps/"),
        ("/registry/core/secrets/", "/registry/secrets/"),
        ("/registry/core/serviceaccounts/", "/registry/serviceaccounts/"),
        ("/registry/core/events/", "/registry/events/"),
        ("/registry/core/nodes/", "/registry/minions/"),
        ("/registry/core/persistentvolumes/", "/registry/persistentvolumes/"),
        ("/registry/core/persistentvolumeclaims/", "/registry/persistentvolumeclaims/"),
        ("/registry/core/replicationcontrollers/", "/registry/controllers/"),
        ("/registry/core/resourcequotas/", "/registry/resourcequotas/"),
        ("/registry/core/limitranges/", "/registry/limitranges/"),
        ("/registry/core/podtemplates/", "/registry/podtemplates/"),
        ("/registry/core/bindings/", "/registry/bindings/"),
        ("/registry/core/componentstatuses/", "/registry/componentstatuses/"),
        ("/registry/apps/deployments/", "/registry/deployments/"),
        ("/registry/apps/replicasets/", "/registry/replicasets/"),
        ("/registry/apps/statefulsets/", "/registry/statefulsets/"),
        ("/registry/apps/daemonsets/", "/registry/daemonsets/"),
        ("/registry/apps/controllerrevisions/", "/registry/controllerrevisions/"),
        ("/registry/batch/jobs/", "/registry/jobs/"),
        ("/registry/batch/cronjobs/", "/registry/cronjobs/"),
        ("/registry/discovery.k8s.io/endpointslices/", "/registry/endpointslices/"),
        ("/registry/coordination.k8s.io/leases/", "/registry/leases/"),
        ("/registry/networking.k8s.io/ingresses/", "/registry/ingress/"),
        ("/registry/networking.k8s.io/ingressclasses/", "/registry/ingressclasses/"),
        ("/registry/networking.k8s.io/networkpolicies/", "/registry/networkpolicies/"),
        ("/registry/storage.k8s.io/storageclasses/", "/registry/storageclasses/"),
        ("/registry/rbac.authorization.k8s.io/roles/", "/registry/roles/"),
        ("/registry/rbac.authorization.k8s.io/rolebindings/", "/registry/rolebindings/"),
        ("/registry/rbac.authorization.k8s.io/clusterroles/", "/registry/clusterroles/"),
        ("/registry/rbac.authorization.k8s.io/clusterrolebindings/", "/registry/clusterrolebindings/"),
        ("/registry/authentication.k8s.io/tokenreviews/", "/registry/tokenreviews/"),
        ("/registry/authentication.k8s.io/selfsubjectreviews/", "/registry/selfsubjectreviews/"),
        ("/registry/authorization.k8s.io/subjectaccessreviews/", "/registry/subjectaccessreviews/"),
        ("/registry/authorization.k8s.io/selfsubjectaccessreviews/", "/registry/selfsubjectaccessreviews/"),
        ("/registry/authorization.k8s.io/selfsubjectrulesreviews/", "/registry/selfsubjectrulesreviews/"),
        ("/registry/authorization.k8s.io/localsubjectaccessreviews/", "/registry/localsubjectaccessreviews/"),
        ("/registry/policy/poddisruptionbudgets/", "/registry/poddisruptionbudgets/"),
        ("/registry/scheduling.k8s.io/priorityclasses/", "/registry/priorityclasses/"),
        ("/registry/node.k8s.io/runtimeclasses/", "/registry/runtimeclasses/"),
        ("/registry/admissionregistration.k8s.io/validatingwebhookconfigurations/", "/registry/validatingwebhookconfigurations/"),
        ("/registry/admissionregistration.k8s.io/mutatingwebhookconfigurations/", "/registry/mutatingwebhookconfigurations/"),
        ("/registry/admissionregistration.k8s.io/validatingadmissionpolicies/", "/registry/validatingadmissionpolicies/"),
        ("/registry/admissionregistration.k8s.io/validatingadmissionpolicybindings/", "/registry/validatingadmissionpolicybindings/"),
        ("/registry/admissionregistration.k8s.io/mutatingadmissionpolicies/", "/registry/mutatingadmissionpolicies/"),
        ("/registry/admissionregistration.k8s.io/mutatingadmissionpolicybindings/", "/registry/mutatingadmissionpolicybindings/"),
        ("/registry/autoscaling/horizontalpodautoscalers/", "/registry/horizontalpodautoscalers/"),
        ("/registry/certificates.k8s.io/certificatesigningrequests/", "/registry/certificatesigningrequests/"),
        ("/registry/certificates.k8s.io/clustertrustbundles/", "/registry/clustertrustbundles/"),
        ("/registry/certificates.k8s.io/podcertificaterequests/", "/registry/podcertificaterequests/"),
        ("/registry/flowcontrol.apiserver.k8s.io/flowschemas/", "/registry/flowschemas/"),
        ("/registry/flowcontrol.apiserver.k8s.io/prioritylevelconfigurations/", "/registry/prioritylevelconfigurations/"),
        ("/registry/networking.k8s.io/ipaddresses/", "/registry/ipaddresses/"),
        ("/registry/networking.k8s.io/servicecidrs/", "/registry/servicecidrs/"),
        ("/registry/resource.k8s.io/deviceclasses/", "/registry/deviceclasses/"),
        ("/registry/resource.k8s.io/devicetaintrules/", "/registry/devicetaintrules/"),
        ("/registry/resource.k8s.io/resourceclaims/", "/registry/resourceclaims/"),
        ("/registry/resource.k8s.io/resourceclaimtemplates/", "/registry/resourceclaimtemplates/"),
        ("/registry/resource.k8s.io/resourceslices/", "/registry/resourceslices/"),
        ("/registry/storage.k8s.io/csidrivers/", "/registry/csidrivers/"),
        ("/registry/storage.k8s.io/csinodes/", "/registry/csinodes/"),
        ("/registry/storage.k8s.io/csistoragecapacities/", "/registry/csistoragecapacities/"),
        ("/registry/storage.k8s.io/volumeattachments/", "/registry/volumeattachments/"),
        ("/registry/storage.k8s.io/volumeattributesclasses/", "/registry/volumeattributesclasses/"),
        ("/registry/storagemigration.k8s.io/storageversionmigrations/", "/registry/storageversionmigrations/"),
    ]

    /// Reads the store's format, refuses a newer one and brings an older one up to `target`;
    /// returns the format found (nil: none recorded yet, which is then recorded as `target`).
    /// Runs before the tables are created, so a refused store is not written to.
    @discardableResult
    static func upgrade(_ db: Database, to target: Int, steps: [Int: Step], createTables: (Database) throws -> Void) throws -> Int? {
        let found = try db.tableExists("meta")
            ? Int.fetchOne(db, sql: "SELECT value FROM meta WHERE name = 'format_version'") : nil
        if let found, found > target { throw StorageError.unsupportedFormat(found: found, supported: target) }
        try createTables(db)
        if let found, found < target {
            for n in found..<target {
                guard let step = steps[n] else { throw StorageError.io("no migration from store format \(n) to \(n + 1)") }
                try step(db)
            }
        }
        if found != target {
            try db.execute(sql: "INSERT OR REPLACE INTO meta(name, value) VALUES ('format_version', ?)", arguments: [target])
        }
        return found
    }
}

extension SQLiteStore {
    /// What a store file holds, as far as opening it is concerned.
    public enum FileCheck: Sendable, Equatable {
        /// No store yet: the next start makes one.
        case absent
        case current
        /// Written by an older cubby: `migrate(path:)` (or the next open) brings it up to date.
        case older(Int)
        /// Written by a newer cubby: refused.
        case newer(Int)
        /// Not a store this binary can open; the reason reads after the file's path, e.g.
        /// "is not a cubby store (file is not a database)".
        case unreadable(String)
    }

    /// Looks at the store without writing to it (read-only, and any empty -wal/-shm file the look
    /// itself made is removed again), so a start can refuse a store before anything touches it.
    public static func check(path: String, supported: Int = formatVersion) -> FileCheck {
        let files = FileManager.default
        guard files.fileExists(atPath: path) else { return .absent }
        // Before any open: even a read-only one deletes the log of an empty file.
        if let damage = damageBeforeOpening(path) { return .unreadable(damage) }
        let hadWAL = files.fileExists(atPath: path + "-wal"), hadSHM = files.fileExists(atPath: path + "-shm")
        defer { removeTraces(path, hadWAL: hadWAL, hadSHM: hadSHM) }
        do {
            var config = Configuration()
            config.readonly = true
            let queue = try DatabaseQueue(path: path, configuration: config)
            defer { try? queue.close() }
            return try queue.read { db -> FileCheck in
                guard try db.tableExists("log") else {
                    let tables = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sqlite_master") ?? 0
                    return tables == 0 ? .absent : .unreadable("is not a cubby store (it holds other tables)")
                }
                let found = try db.tableExists("meta")
                    ? Int.fetchOne(db, sql: "SELECT value FROM meta WHERE name = 'format_version'") : nil
                guard let found else { return .current }
                return found > supported ? .newer(found) : found < supported ? .older(found) : .current
            }
        } catch let error as DatabaseError {
            return .unreadable(describe(error))
        } catch {
            return .unreadable("cannot be read (\(error))")
        }
    }

    /// Brings an older store up to `target` (the steps run in one transaction); returns the format
    /// found. A newer store is refused untouched.
    @discardableResult
    public static func migrate(path: String, to target: Int = formatVersion,
                               steps: [Int: StoreMigrations.Step] = StoreMigrations.steps) throws(StorageError) -> Int? {
        do {
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            defer { try? queue.close() }
            return try queue.write { db in try StoreMigrations.upgrade(db, to: target, steps: steps, createTables: createTables) }
        } catch let error as StorageError {
            throw error
        } catch let error as DatabaseError {
            throw .io("\(path) \(describe(error))")
        } catch {
            throw .io("cannot migrate the store at \(path): \(error)")
        }
    }

    /// The reason SQLite gives, after the file's path: "is not a cubby store (file is not a database)".
    static func describe(_ error: DatabaseError) -> String {
        let message = error.message ?? "\(error)"
        switch error.resultCode {
        case .SQLITE_NOTADB: return "is not a cubby store (\(message))"
        case .SQLITE_CORRUPT: return "is damaged (\(message))"
        default: return "cannot be read (\(message))"
        }
    }
}
