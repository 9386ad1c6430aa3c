import APIMachinery
import Client
import Foundation

/// Creates a Job from each CronJob at its scheduled times (in its time zone), as upstream's
/// cronjob controller: honours suspend, startingDeadlineSeconds and concurrencyPolicy (Allow,
/// Forbid, Replace), keeps status.active, lastScheduleTime and lastSuccessfulTime, and trims
/// finished Jobs to the history limits.
public struct CronJobController: Controller {
    public let name = "cronjob"
    public let queue = WorkQueue()
    let client: Client
    let cronJobs: Informer
    let jobs: Informer
    let events: EventRecorder

    static let scheduledAnnotation = "batch.kubernetes.io/cronjob-scheduled-timestamp"

    public init(client: Client, informers: InformerFactory) {
        self.client = client
        cronJobs = informers.informer("batch", "v1", "cronjobs")
        jobs = informers.informer("batch", "v1", "jobs")
        events = EventRecorder(client: client, component: "cronjob-controller")
    }

    var jobClient: ResourceClient { client.resource("batch", "v1", "jobs") }

    public func register() async {
        let queue = queue
        await cronJobs.addHandler { event in queue.add(Informer.key(event.object)) }
        await jobs.addHandler { event in
            let job = event.object
            guard let owner = ControllerRef.controller(of: job), owner["kind"] == "CronJob", let name = owner["name"].string,
                  let ns = job["metadata"]["namespace"].string else { return }
            queue.add("\(ns)/\(name)")
        }
        await cronJobs.waitForSync()
        await jobs.waitForSync()
    }

    public func reconcile(_ key: String) async throws {
        guard let cj = await cronJobs.get(key), cj["metadata"]["deletionTimestamp"].isNull else { return }
        let (namespace, cjName) = Informer.split(key)
        let now = Date()
        let owned = await jobs.list(controlledBy: cj)
        var active = owned.filter { JobController.finished($0) == nil && $0["metadata"]["deletionTimestamp"].isNull }
        let spec = cj["spec"]
        var status = cj["status"]
        let before = status

        let zone = spec["timeZone"].string.flatMap(TimeZone.init(identifier:)) ?? TimeZone.current
        let schedule: CronSchedule
        do { schedule = try CronSchedule(spec["schedule"].string ?? "") } catch {
            events.warning(cj, "UnparseableSchedule", "unparseable schedule: \(spec["schedule"].string ?? ""): \(error)")
            return
        }
        let since = status["lastScheduleTime"].string.flatMap(APITime.parse)
            ?? cj["metadata"]["creationTimestamp"].string.flatMap(APITime.parse) ?? now
        var due: Date?, missed = 0, cursor = since
        while let t = schedule.next(after: cursor, in: zone), t <= now {
            due = t
            cursor = t
            missed += 1
            if missed > 100 { break }
        }
        if missed > 100 {
            events.warning(cj, "TooManyMissedTimes", "too many missed start times: \(missed). Set or decrease .spec.startingDeadlineSeconds or check clock skew")
        }
        if let scheduled = due, spec["suspend"].bool != true {
            if let deadline = spec["startingDeadlineSeconds"].int, now.timeIntervalSince(scheduled) > Double(deadline) {
                events.warning(cj, "MissSchedule", "Missed scheduled time to start a job: \(APITime.format(scheduled))")
            } else if spec["concurrencyPolicy"] == "Forbid" && !active.isEmpty {
                events.normal(cj, "JobAlreadyActive", "Not starting job because prior execution is running and concurrency policy is Forbid")
            } else {
                if spec["concurrencyPolicy"] == "Replace" {
                    for job in active { try await deleteJob(job, cj, reason: "SuccessfulDelete") }
                    active = []
                }
                let job = try await createJob(cj, scheduled: scheduled)
                active.append(job)
                status["lastScheduleTime"] = .string(APITime.format(scheduled))
            }
        }

        status["active"] = active.isEmpty ? nil : .array(active.map { j in
            ["kind": "Job", "namespace": j["metadata"]["namespace"], "name": j["metadata"]["name"], "uid": j["metadata"]["uid"],
             "apiVersion": "batch/v1", "resourceVersion": j["metadata"]["resourceVersion"]]
        })
        let succeeded = owned.filter { JobController.finished($0) == "Complete" }
        if let last = succeeded.compactMap({ $0["status"]["completionTime"].string }).max() { status["lastSuccessfulTime"] = .string(last) }
        try await trimHistory(cj, finished: succeeded, limit: spec["successfulJobsHistoryLimit"].int ?? 3)
        try await trimHistory(cj, finished: owned.filter { JobController.finished($0) == "Failed" }, limit: spec["failedJobsHistoryLimit"].int ?? 1)

        if let next = schedule.next(after: now, in: zone) {
            queue.add(key, after: .milliseconds(Int64(next.timeIntervalSince(now) * 1000) + 100))
        }
        guard status != before else { return }
        do throws(StatusError) {
            try await client.resource("batch", "v1", "cronjobs").modify(namespace, cjName, status: true) { [status] in $0["status"] = status }
        } catch {
            if error.code != 404 { throw error }
        }
    }

    /// `hello-29012345`: the CronJob's name and the scheduled time in minutes since the epoch.
    func createJob(_ cj: JSON, scheduled: Date) async throws -> JSON {
        let namespace = cj["metadata"]["namespace"].string ?? ""
        let name = "\(cj["metadata"]["name"].string ?? "")-\(Int64(scheduled.timeIntervalSince1970) / 60)"
        let template = cj["spec"]["jobTemplate"]
        var job: JSON = ["apiVersion": "batch/v1", "kind": "Job",
                         "metadata": ["name": .string(name), "namespace": .string(namespace), "ownerReferences": [ControllerRef.reference(to: cj)]],
                         "spec": template["spec"]]
        for field in ["labels", "annotations"] where !template["metadata"][field].isNull { job["metadata"][field] = template["metadata"][field] }
        job["metadata"]["annotations"][Self.scheduledAnnotation] = .string(APITime.format(scheduled))
        do throws(StatusError) {
            let created = try await jobClient.create(namespace, job)
            events.normal(cj, "SuccessfulCreate", "Created job \(name)")
            return created
        } catch {
            if error.code == 409, let existing = try? await jobClient.get(namespace, name) { return existing }
            events.warning(cj, "FailedCreate", "Error creating job: \(error.message)")
            throw error
        }
    }

    func trimHistory(_ cj: JSON, finished: [JSON], limit: Int64) async throws {
        let sorted = finished.sorted { ($0["metadata"]["creationTimestamp"].string ?? "") < ($1["metadata"]["creationTimestamp"].string ?? "") }
        guard sorted.count > Int(limit) else { return }
        for job in sorted.prefix(sorted.count - Int(limit)) { try await deleteJob(job, cj, reason: "SuccessfulDelete") }
    }

    func deleteJob(_ job: JSON, _ cj: JSON, reason: String) async throws {
        let (ns, name) = Informer.split(Informer.key(job))
        var options = DeleteOptions()
        options.propagationPolicy = "Background"
        do throws(StatusError) {
            try await jobClient.delete(ns, name, options: options)
            events.normal(cj, reason, "Deleted job \(name)")
        } catch {
            if error.code != 404 { throw error }
        }
    }
}
