import APIMachinery
import Client
import Foundation

/// Runs Jobs to completion, as upstream's job controller: keeps up to `parallelism` pods active
/// until `completions` have succeeded (each index once, in Indexed mode), fails the Job past
/// backoffLimit failed pods or activeDeadlineSeconds, stops its pods when suspended, records
/// status and conditions, and deletes finished Jobs after ttlSecondsAfterFinished.
public struct JobController: Controller {
    public let name = "job"
    public let queue = WorkQueue()
    let client: Client
    let jobs: Informer
    let pods: Informer
    let expectations = Expectations()
    let events: EventRecorder

    static let indexAnnotation = "batch.kubernetes.io/job-completion-index"

    public init(client: Client, informers: InformerFactory) {
        self.client = client
        jobs = informers.informer("batch", "v1", "jobs")
        pods = informers.pods
        events = EventRecorder(client: client, component: "job-controller")
    }

    var jobClient: ResourceClient { client.resource("batch", "v1", "jobs") }

    public func register() async {
        let queue = queue, expectations = expectations
        await jobs.addHandler { event in queue.add(Informer.key(event.object)) }
        await pods.addHandler(ControllerRef.queueOwner(kind: "Job", owners: jobs, queue, expectations))
        await jobs.waitForSync()
        await pods.waitForSync()
    }

    static func finished(_ job: JSON) -> String? {
        job["status"]["conditions"].array?.first { ($0["type"] == "Complete" || $0["type"] == "Failed") && $0["status"] == "True" }?["type"].string
    }

    public func reconcile(_ key: String) async throws {
        guard let job = await jobs.get(key), job["metadata"]["deletionTimestamp"].isNull else {
            expectations.forget(key)
            return
        }
        let now = Date()
        if Self.finished(job) != nil {
            try await expireIfDone(job, key: key, now: now)
            return
        }
        let spec = job["spec"]
        let owned = try await ControllerClaims.pods(of: job, pods, client)
        let active = owned.filter(ControllerRef.isActive)
        let succeeded = owned.filter { $0["status"]["phase"] == "Succeeded" }
        let failed = owned.filter { $0["status"]["phase"] == "Failed" }
        let indexed = spec["completionMode"].string == "Indexed"
        let completions = spec["completions"].int
        let parallelism = spec["parallelism"].int ?? 1
        let suspended = spec["suspend"].bool == true
        let doneIndexes = Set(succeeded.compactMap { Self.index($0) })
        let succeededCount = Int64(indexed ? doneIndexes.count : succeeded.count)

        var status = job["status"]
        let before = status
        var failure: (reason: String, message: String)?
        // Under OnFailure a failure is a container restart, as upstream counts it.
        let restarts = spec["template"]["spec"]["restartPolicy"] == "OnFailure"
            ? active.reduce(0) { sum, pod in sum + (pod["status"]["containerStatuses"].array ?? []).reduce(0) { $0 + ($1["restartCount"].int ?? 0) } } : 0
        if Int64(failed.count) + restarts > (spec["backoffLimit"].int ?? 6) {
            failure = ("BackoffLimitExceeded", "Job has reached the specified backoff limit")
        } else if let deadline = spec["activeDeadlineSeconds"].int, let start = status["startTime"].string.flatMap(APITime.parse),
                  now.timeIntervalSince(start) >= Double(deadline) {
            failure = ("DeadlineExceeded", "Job was active longer than specified deadline")
        }
        let complete: Bool = if let completions { succeededCount >= completions } else { succeededCount > 0 && active.isEmpty }

        if failure != nil || complete || suspended {
            for pod in active { try await deletePod(pod, key: key) }
        } else if let wait = Self.backOff(failed: failed, now: now), wait > 0 {
            // Replacements for failed pods wait, as upstream's: 10 s doubling with each failure.
            queue.add(key, after: .milliseconds(Int64(wait * 1000) + 1))
        } else if expectations.satisfied(key) {
            if status["startTime"].isNull { status["startTime"] = .string(APITime.format(now)) }
            try await createPods(job, key: key, active: active, succeeded: succeededCount, doneIndexes: doneIndexes,
                                 completions: completions, parallelism: parallelism, indexed: indexed)
        }

        status["active"] = active.isEmpty ? nil : .int(Int64(active.count))
        let ready = active.filter(ControllerRef.isReady).count
        status["ready"] = .int(Int64(ready))
        status["succeeded"] = succeededCount > 0 ? .int(succeededCount) : nil
        status["failed"] = failed.isEmpty ? nil : .int(Int64(failed.count))
        status["terminating"] = .int(Int64(owned.filter { !$0["metadata"]["deletionTimestamp"].isNull }.count))
        status["uncountedTerminatedPods"] = .emptyObject
        if indexed { status["completedIndexes"] = doneIndexes.isEmpty ? nil : .string(Self.ranges(doneIndexes)) }
        var conditions = status["conditions"].array ?? []
        let stamp = APITime.format(now)
        // Recorded only once the status that carries them is written: a reconcile that read a stale
        // Job from the informer loses the write (409) and says nothing twice.
        var news: [(type: String, reason: String, message: String)] = []
        func add(_ type: String, _ reason: String, _ message: String) {
            Conditions.set(&conditions, ["type": .string(type), "status": "True", "reason": .string(reason), "message": .string(message),
                                         "lastProbeTime": .string(stamp), "lastTransitionTime": .string(stamp)])
        }
        if let failure {
            add("FailureTarget", failure.reason, failure.message)
            add("Failed", failure.reason, failure.message)
            news.append(("Warning", failure.reason, failure.message))
        } else if complete {
            add("SuccessCriteriaMet", "CompletionsReached", "Reached expected number of succeeded pods")
            add("Complete", "CompletionsReached", "Reached expected number of succeeded pods")
            status["completionTime"] = .string(stamp)
            news.append(("Normal", "Completed", "Job completed"))
        } else if suspended != (conditions.contains { $0["type"] == "Suspended" && $0["status"] == "True" }) {
            conditions.removeAll { $0["type"] == "Suspended" }
            if suspended {
                add("Suspended", "JobSuspended", "Job suspended")
                news.append(("Normal", "Suspended", "Job suspended"))
            } else {
                news.append(("Normal", "Resumed", "Job resumed"))
            }
        }
        status["conditions"] = conditions.isEmpty ? nil : .array(conditions)
        if let deadline = spec["activeDeadlineSeconds"].int, let start = status["startTime"].string.flatMap(APITime.parse), failure == nil, !complete {
            queue.add(key, after: .milliseconds(max(1, Int64((start.timeIntervalSince(now) + Double(deadline)) * 1000))))
        }
        guard status != before else { return }
        var updated = job
        updated["status"] = status
        do throws(StatusError) {
            try await jobClient.updateStatus(job["metadata"]["namespace"].string, updated)
        } catch {
            if error.code == 404 { return }
            throw error
        }
        for event in news { events.record(job, event.type, event.reason, event.message) }
    }

    func createPods(_ job: JSON, key: String, active: [JSON], succeeded: Int64, doneIndexes: Set<Int>,
                    completions: Int64?, parallelism: Int64, indexed: Bool) async throws {
        let remaining = completions.map { $0 - succeeded - Int64(active.count) } ?? (succeeded > 0 ? 0 : parallelism - Int64(active.count))
        let count = min(Int(min(parallelism - Int64(active.count), remaining)), SlowStart.burst)
        guard count > 0 else { return }
        var indexes: [Int?] = Array(repeating: nil, count: count)
        if indexed, let completions {
            let busy = Set(active.compactMap { Self.index($0) })
            indexes = Array((0..<Int(completions)).filter { !doneIndexes.contains($0) && !busy.contains($0) }.prefix(count))
        }
        let namespace = job["metadata"]["namespace"].string ?? ""
        let jobName = job["metadata"]["name"].string ?? ""
        let template = job["spec"]["template"]
        var pods: [JSON] = []
        for index in indexes {
            let prefix = index.map { "\(jobName)-\($0)-" } ?? "\(jobName)-"
            var pod = ControllerRef.pod(from: template, owner: job, generateName: prefix)
            if let index {
                pod["metadata"]["annotations"][Self.indexAnnotation] = .string(String(index))
                pod["metadata"]["labels"][Self.indexAnnotation] = .string(String(index))
                pod["spec"]["hostname"] = .string("\(jobName)-\(index)")
                let fieldPath = JSON.string("metadata.labels['\(Self.indexAnnotation)']")
                pod["spec"]["containers"] = .array((pod["spec"]["containers"].array ?? []).map { c in
                    var c = c
                    c["env"] = .array((c["env"].array ?? []) + [["name": "JOB_COMPLETION_INDEX",
                                                                  "valueFrom": ["fieldRef": ["apiVersion": "v1", "fieldPath": fieldPath]]]])
                    return c
                })
            }
            pods.append(pod)
        }
        let client = client, events = events
        expectations.expect(key, adds: pods.count)
        let (created, failure) = await SlowStart.run(pods.count) { [pods] i throws(StatusError) in
            do throws(StatusError) {
                let pod = try await client.pods.create(namespace, pods[i])
                events.normal(job, "SuccessfulCreate", "Created pod: \(pod["metadata"]["name"].string ?? "")")
            } catch {
                events.warning(job, "FailedCreate", "Error creating: \(error.message)")
                throw error
            }
        }
        expectations.lower(key, adds: pods.count - created)
        if let failure { throw failure }
    }

    func deletePod(_ pod: JSON, key: String) async throws {
        let (ns, name) = Informer.split(Informer.key(pod))
        do throws(StatusError) { try await client.pods.delete(ns, name) } catch { if error.code != 404 { throw error } }
    }

    /// ttlSecondsAfterFinished: the Job (and through the collector its pods) goes that long
    /// after it finished.
    func expireIfDone(_ job: JSON, key: String, now: Date) async throws {
        guard let ttl = job["spec"]["ttlSecondsAfterFinished"].int else { return }
        let finishedAt = job["status"]["conditions"].array?.first { $0["type"] == "Complete" || $0["type"] == "Failed" }?["lastTransitionTime"]
            .string.flatMap(APITime.parse) ?? now
        let expiry = finishedAt.addingTimeInterval(Double(ttl))
        guard expiry <= now else {
            queue.add(key, after: .milliseconds(Int64(expiry.timeIntervalSince(now) * 1000) + 1))
            return
        }
        let (ns, name) = Informer.split(key)
        var options = DeleteOptions()
        options.propagationPolicy = "Foreground"
        options.preconditionUID = job["metadata"]["uid"].string
        do throws(StatusError) { try await jobClient.delete(ns, name, options: options) } catch { if error.code != 404 && error.code != 409 { throw error } }
    }

    /// Seconds until new pods may be made after the failed ones: 10 s after the latest failure,
    /// doubling with each earlier one, at most 6 minutes; nil with no failures.
    static func backOff(failed: [JSON], now: Date) -> Double? {
        guard !failed.isEmpty else { return nil }
        let latest = failed.compactMap { pod in
            (pod["status"]["containerStatuses"].array ?? []).compactMap { $0["state"]["terminated"]["finishedAt"].string.flatMap(APITime.parse) }.max()
        }.max() ?? now
        let delay = min(360, 10 * pow(2, Double(failed.count - 1)))
        return latest.addingTimeInterval(delay).timeIntervalSince(now)
    }

    static func index(_ pod: JSON) -> Int? { pod["metadata"]["annotations"][indexAnnotation].string.flatMap { Int($0) } }

    /// `0-2,5`: sorted indexes with runs collapsed, as completedIndexes reads.
    static func ranges(_ indexes: Set<Int>) -> String {
        var parts: [String] = [], sorted = indexes.sorted(), i = 0
        while i < sorted.count {
            var j = i
            while j + 1 < sorted.count && sorted[j + 1] == sorted[j] + 1 { j += 1 }
            parts.append(i == j ? "\(sorted[i])" : "\(sorted[i])-\(sorted[j])")
            i = j + 1
        }
        return parts.joined(separator: ",")
    }
}
