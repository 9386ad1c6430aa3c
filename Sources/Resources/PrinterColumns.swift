import APIMachinery

/// Column helpers the built-in declarations share, as kubectl's printers lay them out.
extension PrinterColumn {
    /// The number of entries of a map or list (a Secret's DATA, a ServiceAccount's SECRETS).
    static func count(_ name: String, _ path: [String]) -> PrinterColumn {
        PrinterColumn(name, type: "integer") { o in .int(Int64(o[path: path].object?.count ?? o[path: path].array?.count ?? 0)) }
    }

    static func int(_ name: String, _ path: [String], priority: Int = 0) -> PrinterColumn {
        PrinterColumn(name, type: "integer", priority: priority) { o in .int(o[path: path].int ?? 0) }
    }

    /// READY as `ready/wanted`.
    static func ratio(_ name: String, _ ready: [String], _ want: [String]) -> PrinterColumn {
        PrinterColumn(name) { o in .string("\(o[path: ready].int ?? 0)/\(o[path: want].int ?? 0)") }
    }

    /// A selector as kubectl prints it: a plain map (a service's selector) as k=v pairs, a label
    /// selector in its string form, `<none>` when there is none.
    static func selector(of o: JSON, _ path: [String]) -> String {
        let s = o[path: path]
        if s.isNull { return "<none>" }
        if s["matchLabels"].isNull && s["matchExpressions"].isNull, case .object(let m) = s, !m.isEmpty {
            return m.keys.sorted().map { "\($0)=\(m[$0]!.string ?? "")" }.joined(separator: ",")
        }
        let d = (try? LabelSelector.fromStructured(s))?.description ?? ""
        return d.isEmpty ? "<none>" : d
    }

    /// A workload's -o wide columns: its pod template's containers and images, and its selector.
    static func workloadWide(_ specPath: [String], _ selectorPath: [String]) -> [PrinterColumn] {
        [PrinterColumn("Containers", priority: 1) { o in .string((o[path: specPath + ["containers"]].array ?? []).compactMap { $0["name"].string }.joined(separator: ",")) },
         PrinterColumn("Images", priority: 1) { o in .string((o[path: specPath + ["containers"]].array ?? []).compactMap { $0["image"].string }.joined(separator: ",")) },
         PrinterColumn("Selector", priority: 1) { o in .string(selector(of: o, selectorPath)) }]
    }

    /// A binding's subjects with -o wide: users, groups, and service accounts as NAMESPACE/NAME.
    static let subjectsWide: [PrinterColumn] = [("Users", "User"), ("Groups", "Group"), ("ServiceAccounts", "ServiceAccount")].map { title, kind in
        PrinterColumn(title, priority: 1) { o in
            .string((o["subjects"].array ?? []).filter { $0["kind"].string == kind }.map { s in
                kind == "ServiceAccount" ? "\(s["namespace"].string ?? "")/\(s["name"].string ?? "")" : (s["name"].string ?? "")
            }.joined(separator: ", "))
        }
    }
}
