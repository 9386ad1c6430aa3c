import APIMachinery
import Foundation

/// Upstream's validation of the workloads' pod templates, Jobs, CronJobs and StatefulSet updates.
public enum WorkloadValidation {
    /// A workload's template: its pods are restarted by their controller, so they restart Always
    /// (Jobs: OnFailure or Never).
    public static func template(_ o: JSON, _ path: String, restartPolicies: [String]) -> [FieldError] {
        PodValidation.spec(o[path: path.split(separator: ".").map(String.init) + ["spec"]], "\(path).spec", restartPolicies: restartPolicies)
    }

    public static func job(_ o: JSON) -> [FieldError] {
        var errors = template(o, "spec.template", restartPolicies: ["OnFailure", "Never"])
        for field in ["parallelism", "completions", "backoffLimit", "activeDeadlineSeconds", "ttlSecondsAfterFinished"] {
            if let n = o["spec"][field].int, n < 0 { errors.append(.invalid("spec.\(field)", .int(n), "must be greater than or equal to 0")) }
        }
        if let mode = o["spec"]["completionMode"].string, !["NonIndexed", "Indexed"].contains(mode) {
            errors.append(.notSupported("spec.completionMode", .string(mode), ["Indexed", "NonIndexed"]))
        }
        return errors
    }

    /// A Job's template and selector are fixed once made (its pods were made from them).
    public static func jobUpdate(_ new: JSON, _ old: JSON) -> [FieldError] {
        var errors: [FieldError] = []
        for field in ["selector", "template", "completionMode", "podFailurePolicy", "backoffLimitPerIndex", "managedBy", "successPolicy"]
            where new["spec"][field] != old["spec"][field] {
            errors.append(.invalid("spec.\(field)", new["spec"][field], "field is immutable"))
        }
        if new["spec"]["completions"] != old["spec"]["completions"], new["spec"]["completionMode"] != "Indexed" {
            errors.append(.invalid("spec.completions", new["spec"]["completions"], "field is immutable"))
        }
        return errors
    }

    public static func cronJob(_ o: JSON) -> [FieldError] {
        var errors: [FieldError] = []
        let schedule = o["spec"]["schedule"].string ?? ""
        if schedule.isEmpty {
            errors.append(.required("spec.schedule"))
        } else {
            do throws(CronSchedule.ParseError) { _ = try CronSchedule(schedule) } catch {
                errors.append(.invalid("spec.schedule", .string(schedule), error.description))
            }
            if schedule.contains("TZ") {
                errors.append(.invalid("spec.schedule", .string(schedule), "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"))
            }
        }
        errors += timeZone(o["spec"]["timeZone"])
        if let policy = o["spec"]["concurrencyPolicy"].string, !["Allow", "Forbid", "Replace"].contains(policy) {
            errors.append(.notSupported("spec.concurrencyPolicy", .string(policy), ["Allow", "Forbid", "Replace"]))
        }
        let spec = o["spec"]["jobTemplate"]["spec"]
        errors += PodValidation.spec(spec["template"]["spec"], "spec.jobTemplate.spec.template.spec", restartPolicies: ["OnFailure", "Never"])
        return errors
    }

    /// An IANA time zone, as Go's time.LoadLocation knows them.
    static func timeZone(_ value: JSON) -> [FieldError] {
        guard let zone = value.string else { return [] }
        if zone.isEmpty { return [.invalid("spec.timeZone", value, "timeZone must be nil or non-empty string")] }
        if zone.lowercased() == "local" {
            return [.invalid("spec.timeZone", value, "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones")]
        }
        if TimeZone(identifier: zone) == nil { return [.invalid("spec.timeZone", value, "unknown time zone \(zone)")] }
        return []
    }

    public static func cronJobUpdate(_ new: JSON, _ old: JSON) -> [FieldError] {
        new["spec"]["timeZone"] == old["spec"]["timeZone"] ? [] : timeZone(new["spec"]["timeZone"])
    }

    /// Only replicas, ordinals, template, updateStrategy, revisionHistoryLimit, the claim
    /// retention policy and minReadySeconds of a StatefulSet may change.
    public static func statefulSetUpdate(_ new: JSON, _ old: JSON) -> [FieldError] {
        var a = new["spec"], b = old["spec"]
        for field in ["replicas", "ordinals", "template", "updateStrategy", "revisionHistoryLimit", "persistentVolumeClaimRetentionPolicy", "minReadySeconds"] {
            a[field] = nil
            b[field] = nil
        }
        guard a != b else { return [] }
        return [.forbidden("spec", "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', "
                           + "'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden")]
    }
}
