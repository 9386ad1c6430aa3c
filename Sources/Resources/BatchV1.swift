import APIMachinery
import Foundation

/// batch/v1: Job and CronJob, with upstream's defaults (the job's generated selector and labels),
/// validation and columns.
public enum BatchV1 {
    public static let resources: [ResourceDefinition] = [
        ResourceDefinition(group: "batch", version: "v1", kind: "Job", plural: "jobs", categories: ["all"], hasStatus: true, tracksGeneration: true,
            strategy: .init(defaults: { o in
                for (k, v) in [("parallelism", JSON.int(1)), ("completions", 1), ("backoffLimit", 6), ("completionMode", "NonIndexed"), ("suspend", false),
                               ("manualSelector", false)] where o["spec"][k].isNull { o["spec"][k] = v }
                if o["spec"]["podReplacementPolicy"].isNull, o["spec"]["podFailurePolicy"].isNull { o["spec"]["podReplacementPolicy"] = "TerminatingOrFailed" }
                if o["spec"]["template"]["spec"]["restartPolicy"].isNull { o["spec"]["template"]["spec"]["restartPolicy"] = "Never" }
                var s = o["spec"]["template"]["spec"]; PodDefaults.apply(to: &s); o["spec"]["template"]["spec"] = s
            }, prepareForCreate: { o in
                o["status"] = .emptyObject
                // Upstream ties a job to its pods by generated labels unless the user chose a selector.
                if o["spec"]["manualSelector"].bool != true, let uid = o["metadata"]["uid"].string, let name = o["metadata"]["name"].string {
                    o["spec"]["selector"] = ["matchLabels": ["batch.kubernetes.io/controller-uid": .string(uid)]]
                    for (k, v) in [("batch.kubernetes.io/controller-uid", uid), ("batch.kubernetes.io/job-name", name), ("controller-uid", uid), ("job-name", name)] {
                        o["spec"]["template"]["metadata"]["labels"][k] = .string(v)
                    }
                }
            }, validate: WorkloadValidation.job, validateUpdate: WorkloadValidation.jobUpdate),
            columns: [PrinterColumn("Status") { o in .string((o["status"]["conditions"].array ?? []).last { $0["status"] == "True" }?["type"].string ?? "Running") },
                      PrinterColumn("Completions") { o in .string("\(o["status"]["succeeded"].int ?? 0)/\(o["spec"]["completions"].int ?? 1)") },
                      PrinterColumn("Duration") { o in
                          // Start to completion, or to now while running; nothing before it starts.
                          guard let start = o["status"]["startTime"].string.flatMap(APITime.parse) else { return "" }
                          let end = o["status"]["completionTime"].string.flatMap(APITime.parse) ?? Date()
                          return .string(APITime.humanDuration(end.timeIntervalSince(start)))
                      }, .age] + PrinterColumn.workloadWide(["spec", "template", "spec"], ["spec", "selector"]),
            fieldSelectors: ["status.successful": { String($0["status"]["succeeded"].int ?? 0) }],
            schemaName: "io.k8s.api.batch.v1.Job"),
        ResourceDefinition(group: "batch", version: "v1", kind: "CronJob", plural: "cronjobs", shortNames: ["cj"], categories: ["all"], hasStatus: true, tracksGeneration: true,
            strategy: .init(defaults: { o in
                for (k, v) in [("concurrencyPolicy", JSON.string("Allow")), ("suspend", false), ("successfulJobsHistoryLimit", 3), ("failedJobsHistoryLimit", 1)] where o["spec"][k].isNull { o["spec"][k] = v }
                var s = o["spec"]["jobTemplate"]["spec"]["template"]["spec"]; PodDefaults.apply(to: &s)
                if !s.isNull { o["spec"]["jobTemplate"]["spec"]["template"]["spec"] = s }
            }, prepareForCreate: { o in o["status"] = .emptyObject }, validate: WorkloadValidation.cronJob, validateUpdate: WorkloadValidation.cronJobUpdate),
            columns: [.field("Schedule", ["spec", "schedule"]), .field("Timezone", ["spec", "timeZone"]),
                      PrinterColumn("Suspend") { o in .string(o["spec"]["suspend"].bool == true ? "True" : "False") },
                      PrinterColumn("Active", type: "integer") { o in .int(Int64(o["status"]["active"].array?.count ?? 0)) },
                      PrinterColumn("Last Schedule") { o in .string(o["status"]["lastScheduleTime"].isNull ? "<none>" : APITime.age(o["status"]["lastScheduleTime"])) }, .age]
                + PrinterColumn.workloadWide(["spec", "jobTemplate", "spec", "template", "spec"], ["spec", "jobTemplate", "spec", "selector"]),
            schemaName: "io.k8s.api.batch.v1.CronJob"),
    ]
}
