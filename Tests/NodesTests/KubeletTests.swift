import APIMachinery
import Foundation
import Resources
import Testing
@testable import Nodes

@Suite struct KubeletRulesTests {
    @Test func crashLoopBackOffDoublesToFiveMinutesAndStartsOverAfterQuiet() {
        var backoff = Backoff()
        let t0 = Date(timeIntervalSince1970: 1_000_000)
        #expect(backoff.delay("c", now: t0) == 0)
        var delays: [Double] = []
        for i in 0..<7 {
            backoff.next("c", now: t0.addingTimeInterval(Double(i)))
            delays.append(backoff.delay("c", now: t0.addingTimeInterval(Double(i))))
        }
        #expect(delays == [10, 20, 40, 80, 160, 300, 300])
        #expect(backoff.isBackingOff("c", since: t0.addingTimeInterval(6), now: t0.addingTimeInterval(100)))
        #expect(!backoff.isBackingOff("c", since: t0.addingTimeInterval(6), now: t0.addingTimeInterval(400)))
        // Ten quiet minutes (twice the maximum): the next failure waits 10 s again.
        #expect(backoff.delay("c", now: t0.addingTimeInterval(6 + 601)) == 0)
    }

    @Test func dollarReferencesExpandAsUpstream() {
        let values = ["A": "1", "B": "two"]
        #expect(EnvironmentExpansion.expand("$(A)-$(B)", values) == "1-two")
        #expect(EnvironmentExpansion.expand("$(MISSING) stays", values) == "$(MISSING) stays")
        #expect(EnvironmentExpansion.expand("$$(A) is escaped", values) == "$(A) is escaped")
        #expect(EnvironmentExpansion.expand("a $ alone, $(unclosed", values) == "a $ alone, $(unclosed")
    }

    @Test func phaseFollowsUpstreamsRules() {
        func phase(_ policy: String, _ states: [JSON]) -> String {
            StatusView.phase(["restartPolicy": .string(policy)], initStatuses: [], initSpecs: [], statuses: states, initDone: true)
        }
        let running: JSON = ["state": ["running": ["startedAt": "x"]]]
        let ok: JSON = ["state": ["terminated": ["exitCode": 0]]]
        let failed: JSON = ["state": ["terminated": ["exitCode": 1]]]
        let crashLooping: JSON = ["state": ["waiting": ["reason": "CrashLoopBackOff"]], "lastState": ["terminated": ["exitCode": 1]]]
        let pulling: JSON = ["state": ["waiting": ["reason": "ErrImagePull"]]]
        #expect(phase("Always", [running, crashLooping]) == "Running")
        #expect(phase("Always", [crashLooping]) == "Running")
        #expect(phase("Always", [running, pulling]) == "Pending")
        #expect(phase("Never", [ok, failed]) == "Failed")
        #expect(phase("Never", [ok, ok]) == "Succeeded")
        #expect(phase("OnFailure", [ok, ok]) == "Succeeded")
        #expect(phase("OnFailure", [ok, crashLooping]) == "Running")
    }

    @Test func qosClassFromRequestsAndLimits() {
        func spec(_ resources: JSON...) -> JSON {
            ["containers": .array(resources.map { ["name": "c", "resources": $0] })]
        }
        #expect(PodQOS.qosClass(spec(.emptyObject)) == "BestEffort")
        #expect(PodQOS.qosClass(spec(["limits": ["cpu": "1", "memory": "1Gi"]])) == "Guaranteed")
        #expect(PodQOS.qosClass(spec(["limits": ["cpu": "1", "memory": "1Gi"], "requests": ["cpu": "500m"]])) == "Burstable")
        #expect(PodQOS.qosClass(spec(["limits": ["cpu": "1", "memory": "1Gi"]], .emptyObject)) == "Burstable")
        #expect(PodQOS.qosClass(spec(["requests": ["memory": "64Mi"]])) == "Burstable")
    }

    @Test func containerResourcesAsTheKubeletSetsThem() {
        let pod: JSON = ["spec": ["containers": [["name": "c", "resources": ["limits": ["cpu": "250m", "memory": "64Mi"]]]]]]
        let r = Kubelet.resources(pod, pod["spec"]["containers"][0])
        #expect(r.cpuShares == 256)
        #expect(r.cpuQuota == 25_000 && r.cpuPeriod == 100_000)
        #expect(r.memoryLimitInBytes == 64 << 20)
        #expect(r.oomScoreAdj == -997)
    }

    @Test func downwardAPIFields() throws {
        let pod: JSON = ["metadata": ["name": "web", "namespace": "ns", "uid": "u", "labels": ["b": "2", "a": "x\"y"]],
                         "spec": ["nodeName": "n", "serviceAccountName": "sa"]]
        #expect(try Kubelet.fieldValue("metadata.labels['b']", pod, podIP: "10.0.0.2", nodeIP: "10.0.0.1") == "2")
        #expect(try Kubelet.fieldValue("metadata.labels", pod, podIP: "", nodeIP: "") == "a=\"x\\\"y\"\nb=\"2\"")
        #expect(try Kubelet.fieldValue("status.podIP", pod, podIP: "10.0.0.2", nodeIP: "10.0.0.1") == "10.0.0.2")
        #expect(throws: Kubelet.ConfigError.self) { try Kubelet.fieldValue("spec.nope", pod, podIP: "", nodeIP: "") }
        let withLimits: JSON = ["spec": ["containers": [["name": "c", "resources": ["limits": ["memory": "128Mi"]]]]]]
        #expect(try Kubelet.resourceValue(["resource": "limits.memory", "divisor": "1Mi"], withLimits, defaultContainer: ["name": "c"]) == "128")
    }

    @Test func imageRegistries() {
        #expect(ImageManager.registry(of: "busybox:1.35") == "docker.io")
        #expect(ImageManager.registry(of: "library/busybox") == "docker.io")
        #expect(ImageManager.registry(of: "registry.k8s.io/pause:3.10") == "registry.k8s.io")
        #expect(ImageManager.registry(of: "localhost:5000/app") == "localhost:5000")
        #expect(ImageManager.registry(of: "https://index.docker.io/v1/") == "docker.io")
    }
}

@Suite struct NodeFilesTests {
    func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("nodes-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func atomicWriterSwapsContentAndDropsRemovedKeys() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try AtomicWriter.write(["a": .init(contents: Data("1".utf8), mode: 0o644), "sub/b": .init(contents: Data("2".utf8), mode: 0o600)], to: dir))
        #expect(try String(contentsOf: dir.appendingPathComponent("sub/b"), encoding: .utf8) == "2")
        #expect(!(try AtomicWriter.write(["a": .init(contents: Data("1".utf8), mode: 0o644), "sub/b": .init(contents: Data("2".utf8), mode: 0o600)], to: dir)))
        let first = try FileManager.default.destinationOfSymbolicLink(atPath: dir.appendingPathComponent("..data").path)
        #expect(try AtomicWriter.write(["a": .init(contents: Data("changed".utf8), mode: 0o644)], to: dir))
        #expect(try String(contentsOf: dir.appendingPathComponent("a"), encoding: .utf8) == "changed")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("sub").path))
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent(first).path))
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix("..") && $0 != "..data" }
        #expect(names.count == 1)
    }

    @Test func offlinePauseIsAStaticELFExecutable() {
        let program = SandboxImage.pauseProgram
        #expect(Array(program.prefix(4)) == [0x7f, 0x45, 0x4c, 0x46])
        #expect(program[4] == 2 && program[5] == 1)
        #expect(program.count < 200)
    }

    @Test func tarEntriesHaveValidChecksumsAndPadding() {
        let archive = Tar.archive([.init(path: "pause", mode: 0o755, contents: [1, 2, 3])])
        #expect(archive.count == 512 + 512 + 1024)
        let header = Array(archive.prefix(512))
        var sum = header.enumerated().reduce(0) { $0 + (148..<156 ~= $1.offset ? 32 : Int($1.element)) }
        sum &= 0o7777777
        let recorded = Int(String(decoding: header[148..<154], as: UTF8.self), radix: 8)
        #expect(recorded == sum)
        #expect(String(decoding: header[257..<262], as: UTF8.self) == "ustar")
    }

    @Test func networkSlotsDoNotOverlap() {
        let first = ClusterNetwork(slot: 0, bridge: "a"), second = ClusterNetwork(slot: 1, bridge: "b")
        #expect((first.podCIDR, first.serviceCIDR, first.dnsServiceIP, first.kubernetesServiceIP) == ("10.244.0.0/16", "10.96.0.0/12", "10.96.0.10", "10.96.0.1"))
        #expect((second.podCIDR, second.serviceCIDR, second.dnsServiceIP) == ("10.245.0.0/16", "10.112.0.0/16", "10.112.0.10"))
        #expect(second.gateway() == "10.245.0.1" && second.nodePodCIDR(0) == "10.245.0.0/24")
        let last = ClusterNetwork(slot: ClusterNetwork.slots.upperBound, bridge: "c")
        #expect(last.podCIDR == "10.255.0.0/16" && last.serviceCIDR == "10.122.0.0/16")
    }

    @Test func bridgeNamesFitTheKernelsFifteenCharacters() {
        let dir = URL(fileURLWithPath: "/tmp/x")
        #expect(RuntimeLayout(name: "cubby", dataDirectory: dir).bridgeName == "cubby-cubby")
        let long = RuntimeLayout(name: "a-very-long-profile-name", dataDirectory: dir).bridgeName
        #expect(long.count <= 15 && long.hasPrefix("cubby-a-ve-"))
        #expect(long != RuntimeLayout(name: "a-very-long-profile-name-2", dataDirectory: dir).bridgeName)
    }
}

@Suite struct ContainerLogTests {
    @Test func criLinesAreParsedWithTheirTimeAndTag() throws {
        let full = try #require(CRILogLine(ArraySlice(Array("2026-12-02T08:15:00.123456789Z stdout F hello world".utf8))))
        #expect(full.content == Array("hello world".utf8) && !full.partial)
        #expect(abs(full.time!.timeIntervalSince1970 - 1_796_199_300.123) < 0.001)
        let part = try #require(CRILogLine(ArraySlice(Array("2026-12-02T08:15:00Z stderr P par".utf8))))
        #expect(part.partial && part.content == Array("par".utf8))
        #expect(CRILogLine(ArraySlice(Array("garbage".utf8))) == nil)
    }

    @Test func aLargeLogIsRotatedAndOnlyTheNewestRotatedFilesKept() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cubby-rotation-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let log = dir.appendingPathComponent("0.log").path
        let rotation = ContainerLogRotation(maxSize: 100, maxFiles: 3)
        try Data(repeating: 65, count: 50).write(to: URL(fileURLWithPath: log))
        #expect(!rotation.rotate(log))
        try Data(repeating: 65, count: 200).write(to: URL(fileURLWithPath: log))
        #expect(rotation.rotate(log, now: Date(timeIntervalSince1970: 1_796_199_300)))
        #expect(!FileManager.default.fileExists(atPath: log))
        #expect(FileManager.default.fileExists(atPath: log + ".20261202-081500"))
        for stamp in ["20261201-000000", "20261130-000000", "20261129-000000"] {
            _ = FileManager.default.createFile(atPath: "\(log).\(stamp)", contents: Data())
        }
        rotation.prune(log)
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        #expect(left == ["0.log.20261201-000000", "0.log.20261202-081500"])
    }
}

