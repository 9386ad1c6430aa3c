import APIMachinery

/// Upstream's validation of Events, on their core form (so field paths name core fields whichever
/// API wrote them): every event passes the legacy checks; events written through events.k8s.io/v1
/// also the strict ones, and after creation only their series may change.
public enum EventValidation {
    static let limits = [("reportingInstance", 128), ("action", 128), ("reason", 128), ("message", 1024)]

    public static func validate(_ e: JSON, strict: Bool) -> [FieldError] {
        var errors = legacy(e)
        guard strict else { return errors }
        errors += series(e)
        if e["eventTime"].isNull { errors.append(.required("eventTime")) }
        let type = e["type"].string ?? ""
        if type != "Normal" && type != "Warning" { errors.append(.invalid("type", "", "has invalid value: \(type)")) }
        for field in ["firstTimestamp", "lastTimestamp"] where !e[field].isNull {
            errors.append(.invalid(field, "", "needs to be unset"))
        }
        if (e["count"].int ?? 0) != 0 { errors.append(.invalid("count", "", "needs to be unset")) }
        if !(e["source"]["component"].string ?? "").isEmpty || !(e["source"]["host"].string ?? "").isEmpty {
            errors.append(.invalid("source", "", "needs to be unset"))
        }
        return errors
    }

    /// Through events.k8s.io/v1 an event is a record: only its series (and metadata) may change.
    public static func validateUpdate(_ new: JSON, _ old: JSON) -> [FieldError] {
        var errors = legacy(new)
        if new["series"] != old["series"] { errors += series(new) }
        for field in ["involvedObject", "reason", "message", "source", "firstTimestamp", "lastTimestamp", "count", "type",
                      "eventTime", "action", "related", "reportingComponent", "reportingInstance"] where new[field] != old[field] {
            errors.append(.invalid(path(field), new[field], "field is immutable"))
        }
        return errors
    }

    /// Upstream reports the field by its internal name, which is core's except for the reporter.
    static func path(_ field: String) -> String { field == "reportingComponent" ? "reportingController" : field }

    static func series(_ e: JSON) -> [FieldError] {
        let s = e["series"]
        guard !s.isNull else { return [] }
        var errors: [FieldError] = []
        if (s["count"].int ?? 0) < 2 { errors.append(.invalid("series.count", "", "should be at least 2")) }
        if s["lastObservedTime"].isNull { errors.append(.required("series.lastObservedTime")) }
        return errors
    }

    /// What every event must satisfy: its namespace agrees with the object it is about; events
    /// with an eventTime (the newer API's) name their reporter, action and reason.
    static func legacy(_ e: JSON) -> [FieldError] {
        var errors: [FieldError] = []
        let namespace = e["metadata"]["namespace"].string ?? ""
        let involvedNamespace = e["involvedObject"]["namespace"].string ?? ""
        let mismatch: FieldError = .invalid("involvedObject.namespace", .string(involvedNamespace), "does not match event.namespace")
        if e["eventTime"].isNull {
            if involvedNamespace.isEmpty ? !(namespace.isEmpty || namespace == "default") : namespace != involvedNamespace {
                errors.append(mismatch)
            }
            return errors
        }
        if involvedNamespace.isEmpty && namespace != "default" && namespace != "kube-system" { errors.append(mismatch) }
        let controller = e["reportingComponent"].string ?? ""
        if controller.isEmpty { errors.append(.required(path("reportingComponent"))) }
        errors += NameValidation.qualifiedName(controller).map { .invalid(path("reportingComponent"), .string(controller), $0) }
        for (field, limit) in limits {
            let value = e[field].string ?? ""
            if value.isEmpty && field != "message" { errors.append(.required(field)) }
            if value.count > limit { errors.append(.invalid(field, "", "can have at most \(limit) characters")) }
        }
        return errors
    }
}
