/// `/healthz`, `/livez` and `/readyz?verbose`: the checks behind the answer, listed as upstream's
/// apiserver lists them (`[+]NAME ok`, then `readyz check passed`). The server answers only once
/// its store is open, the bootstrap objects are made and the controllers' informers run, so each
/// check has passed by the time anyone can ask.
enum HealthChecks {
    static let common = ["ping", "log", "storage", "poststarthook/start-apiserver-admission-initializer", "poststarthook/rbac/bootstrap-roles",
                         "poststarthook/scheduling/bootstrap-system-priority-classes", "poststarthook/bootstrap-controller"]

    static func verbose(_ path: String) -> String {
        let endpoint = String(path.dropFirst())
        let checks = endpoint == "readyz" ? common + ["informer-sync", "shutdown"] : common
        return checks.map { "[+]\($0) ok" }.joined(separator: "\n") + "\n\(endpoint) check passed\n"
    }
}
