import APIMachinery

/// Events, served as upstream serves them: core/v1 (what `kubectl get events` and the in-process
/// recorders use) and events.k8s.io/v1 (what client-go's newer recorder writes), one object seen
/// through both. The store holds the core form; events.k8s.io/v1 renames a few fields.
public enum Events {
    /// events.k8s.io/v1 name ↔ core/v1 name, as upstream's conversion pairs them.
    static let renamed: [(eventsV1: String, core: String)] = [
        ("regarding", "involvedObject"), ("note", "message"), ("reportingController", "reportingComponent"),
        ("deprecatedSource", "source"), ("deprecatedFirstTimestamp", "firstTimestamp"),
        ("deprecatedLastTimestamp", "lastTimestamp"), ("deprecatedCount", "count"),
    ]

    static func rename(_ o: JSON, apiVersion: String, _ pairs: [(from: String, to: String)]) -> JSON {
        var out = o
        for (from, to) in pairs {
            let value = out[from]
            out[from] = nil
            out[to] = value.isNull ? nil : value
        }
        out["apiVersion"] = .string(apiVersion)
        return out
    }

    public static func toCore(_ o: JSON) -> JSON { rename(o, apiVersion: "v1", renamed.map { ($0.eventsV1, $0.core) }) }
    public static func fromCore(_ o: JSON) -> JSON { rename(o, apiVersion: "events.k8s.io/v1", renamed.map { ($0.core, $0.eventsV1) }) }

    /// Upstream's event printer: a series' last observation and count win; events of the newer
    /// API have eventTime instead of timestamps and no count (one occurrence).
    static func firstSeen(_ o: JSON) -> JSON { o["firstTimestamp"].isNull ? o["eventTime"] : o["firstTimestamp"] }
    static func firstNonEmpty(_ a: JSON, _ b: JSON) -> String { (a.string ?? "").isEmpty ? (b.string ?? "") : a.string! }

    static let columns: [PrinterColumn] = {
        [
            PrinterColumn("Last Seen") { o in
                .string(APITime.age(!o["series"].isNull ? o["series"]["lastObservedTime"] : o["lastTimestamp"].isNull ? firstSeen(o) : o["lastTimestamp"]))
            },
            .field("Type", ["type"]), .field("Reason", ["reason"]),
            PrinterColumn("Object") { o in .string("\((o["involvedObject"]["kind"].string ?? "").lowercased())/\(o["involvedObject"]["name"].string ?? "")") },
            .field("Subobject", ["involvedObject", "fieldPath"], priority: 1, none: ""),
            PrinterColumn("Source", priority: 1) { o in
                let component = firstNonEmpty(o["source"]["component"], o["reportingComponent"])
                let instance = firstNonEmpty(o["source"]["host"], o["reportingInstance"])
                return .string(instance.isEmpty ? component : "\(component), \(instance)")
            },
            .field("Message", ["message"], none: ""),
            PrinterColumn("First Seen", priority: 1) { o in .string(APITime.age(firstSeen(o))) },
            PrinterColumn("Count", type: "integer", priority: 1) { o in
                .int(o["series"]["count"].int ?? (o["count"].int).flatMap { $0 == 0 ? nil : $0 } ?? 1)
            },
            // kubectl shows an event's name only with -o wide, last.
            PrinterColumn("Name", format: "name", priority: 1) { o in o["metadata"]["name"] },
        ]
    }()

    /// Upstream's selectable fields of a core Event; "source" falls back to the reporting
    /// component for events recorded through the newer API.
    static let coreFields: [String: @Sendable (JSON) -> String?] = {
        var fields: [String: @Sendable (JSON) -> String?] = [
            "reason": { $0["reason"].string }, "type": { $0["type"].string },
            "reportingComponent": { $0["reportingComponent"].string },
            "source": { o in (o["source"]["component"].string ?? "").isEmpty ? o["reportingComponent"].string : o["source"]["component"].string },
        ]
        for field in ["kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath"] {
            fields["involvedObject.\(field)"] = { $0["involvedObject"][field].string }
        }
        return fields
    }()

    public static let coreV1 = ResourceDefinition(
        group: "", version: "v1", kind: "Event", plural: "events", shortNames: ["ev"],
        strategy: .init(validate: { EventValidation.validate($0, strict: false) },
                        validateUpdate: { new, _ in EventValidation.validate(new, strict: false) }),
        columns: columns, fieldSelectors: coreFields, schemaName: "io.k8s.api.core.v1.Event")

    /// The same objects through events.k8s.io/v1: validated, printed and selected in their core
    /// form, as upstream does all three on its one internal type.
    public static let eventsV1 = ResourceDefinition(
        group: "events.k8s.io", version: "v1", kind: "Event", plural: "events", shortNames: ["ev"],
        strategy: .init(validate: { EventValidation.validate(toCore($0), strict: true) },
                        validateUpdate: { new, old in EventValidation.validateUpdate(toCore(new), toCore(old)) }),
        columns: columns.map { column in
            var c = column
            c.cell = { column.cell(toCore($0)) }
            return c
        },
        fieldSelectors: {
            var fields: [String: @Sendable (JSON) -> String?] = [:]
            // Upstream's labels for this group: involvedObject.* read regarding.*, and
            // reportingComponent is reportingController; "source" keeps its name.
            for (label, read) in coreFields {
                let name = label == "reportingComponent" ? "reportingController"
                    : label.hasPrefix("involvedObject.") ? "regarding." + label.dropFirst("involvedObject.".count) : label
                fields[name] = { read(toCore($0)) }
            }
            return fields
        }(),
        schemaName: "io.k8s.api.events.v1.Event",
        storedAs: StoredVersion(group: "", plural: "events", fromStorage: fromCore, toStorage: toCore))
}
