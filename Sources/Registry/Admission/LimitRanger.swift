import APIMachinery
import Foundation
import Resources

/// Upstream's LimitRanger admission, from the namespace's LimitRanges: a new pod's containers
/// get the default requests and limits they leave out (recorded in the
/// `kubernetes.io/limit-ranger` annotation), then pods and claims are held to each range's
/// min, max and max limit/request ratio, per Container, per Pod and per PersistentVolumeClaim,
/// refused in upstream's words.
public struct LimitRanger: AdmissionPlugin {
    public static let annotation = "kubernetes.io/limit-ranger"

    public init() {}

    func ranges(_ request: AdmissionRequest) async throws(StatusError) -> [JSON] {
        try await request.list("limitranges", namespace: request.namespace)
    }

    static func items(_ ranges: [JSON], _ type: String) -> [JSON] {
        ranges.flatMap { ($0["spec"]["limits"].array ?? []).filter { $0["type"].string == type } }
    }

    public func admit(_ request: inout AdmissionRequest) async throws(StatusError) {
        guard request.operation == .create, request.isResource("pods") else { return }
        let containerItems = Self.items(try await ranges(request), "Container")
        guard !containerItems.isEmpty else { return }
        var defaults: (requests: [String: JSON], limits: [String: JSON]) = ([:], [:])
        for item in containerItems {
            for (r, q) in item["defaultRequest"].object ?? [:] where defaults.requests[r] == nil { defaults.requests[r] = q }
            for (r, q) in item["default"].object ?? [:] where defaults.limits[r] == nil { defaults.limits[r] = q }
        }
        var notes: [String] = []
        var spec = request.object["spec"]
        for (list, prefix) in [("containers", "container"), ("initContainers", "init container")] {
            guard var containers = spec[list].array else { continue }
            for i in containers.indices {
                var setRequests: [String] = [], setLimits: [String] = []
                for (r, q) in defaults.limits where containers[i]["resources"]["limits"][r].isNull {
                    containers[i]["resources"]["limits"][r] = q
                    setLimits.append(r)
                }
                for (r, q) in defaults.requests where containers[i]["resources"]["requests"][r].isNull {
                    containers[i]["resources"]["requests"][r] = q
                    setRequests.append(r)
                }
                let name = containers[i]["name"].string ?? ""
                if !setRequests.isEmpty { notes.append("\(setRequests.sorted().joined(separator: ", ")) request for \(prefix) \(name)") }
                if !setLimits.isEmpty { notes.append("\(setLimits.sorted().joined(separator: ", ")) limit for \(prefix) \(name)") }
            }
            spec[list] = .array(containers)
        }
        request.object["spec"] = spec
        if !notes.isEmpty {
            request.object["metadata"]["annotations"][Self.annotation] = .string("LimitRanger plugin set: " + notes.joined(separator: "; "))
        }
    }

    public func validate(_ request: AdmissionRequest) async throws(StatusError) {
        // Pods are held to the ranges when created, claims also when resized.
        guard request.operation == .create || (request.operation == .update && request.isResource("persistentvolumeclaims")), request.subresource == nil,
              request.isResource("pods") || request.isResource("persistentvolumeclaims") else { return }
        let ranges = try await ranges(request)
        guard !ranges.isEmpty else { return }
        var errors: [String] = []
        if request.isResource("pods") {
            let spec = request.object["spec"]
            for item in Self.items(ranges, "Container") {
                for c in (spec["containers"].array ?? []) + (spec["initContainers"].array ?? []) {
                    errors += Self.check(item, "Container", requests: c["resources"]["requests"].object ?? [:], limits: c["resources"]["limits"].object ?? [:])
                }
            }
            for item in Self.items(ranges, "Pod") {
                let requests = QuotaUsage.podTotals(spec, "requests").mapValues { JSON.double($0) }
                let limits = QuotaUsage.podTotals(spec, "limits").mapValues { JSON.double($0) }
                errors += Self.check(item, "Pod", requests: requests, limits: limits)
            }
        } else {
            for item in Self.items(ranges, "PersistentVolumeClaim") {
                errors += Self.check(item, "PersistentVolumeClaim", requests: request.object["spec"]["resources"]["requests"].object ?? [:],
                                     limits: request.object["spec"]["resources"]["limits"].object ?? [:])
            }
        }
        guard !errors.isEmpty else { return }
        throw request.forbidden(errors.count == 1 ? errors[0] : "[" + errors.joined(separator: ", ") + "]")
    }

    /// min (on requests), max (on limits) and maxLimitRequestRatio of one LimitRange item.
    static func check(_ item: JSON, _ type: String, requests: [String: JSON], limits: [String: JSON]) -> [String] {
        var errors: [String] = []
        // Claims are measured by their requests for max too (they have no limits).
        let measuredForMax = type == "PersistentVolumeClaim" ? requests : limits
        for (r, min) in (item["min"].object ?? [:]).sorted(by: { $0.key < $1.key }) {
            let bound = QuotaUsage.quantityText(min)
            guard let request = requests[r] else {
                errors.append("minimum \(r) usage per \(type) is \(bound).  No request is specified")
                continue
            }
            if Quantity.value(request) < Quantity.value(min) {
                errors.append("minimum \(r) usage per \(type) is \(bound), but request is \(text(request, r))")
            }
        }
        for (r, max) in (item["max"].object ?? [:]).sorted(by: { $0.key < $1.key }) {
            let bound = QuotaUsage.quantityText(max)
            guard let limit = measuredForMax[r] else {
                errors.append("maximum \(r) usage per \(type) is \(bound).  No limit is specified")
                continue
            }
            if Quantity.value(limit) > Quantity.value(max) {
                errors.append("maximum \(r) usage per \(type) is \(bound), but \(type == "PersistentVolumeClaim" ? "request" : "limit") is \(text(limit, r))")
            }
        }
        for (r, ratio) in (item["maxLimitRequestRatio"].object ?? [:]).sorted(by: { $0.key < $1.key }) {
            let limit = Quantity.value(limits[r] ?? .null), request = Quantity.value(requests[r] ?? .null)
            guard limit > 0 else { continue }
            if request == 0 {
                errors.append("\(r) max limit to request ratio per \(type) is \(QuotaUsage.quantityText(ratio)), but no request is specified or request is 0")
            } else if limit / request > Quantity.value(ratio) {
                errors.append("\(r) max limit to request ratio per \(type) is \(QuotaUsage.quantityText(ratio)), but provided ratio is \(String(format: "%f", limit / request))")
            }
        }
        return errors
    }

    /// A quantity as the object said it; sums computed here in the quota's format.
    static func text(_ value: JSON, _ resource: String) -> String {
        if case .double(let d) = value { return QuotaUsage.format(d, resource: resource) }
        return QuotaUsage.quantityText(value)
    }
}
