import CRI
import Foundation
import Logging

/// The image every pod sandbox runs (the "pause" container that holds the pod's namespaces):
/// pulled from its registry where the machine can reach it, otherwise made by Cubby on the spot,
/// so a cluster starts pods with no network at all. The one Cubby makes is a 129-byte static
/// program that sleeps in pause(2) (ppoll on arm64) until the sandbox is killed, which is all
/// a sandbox's process does; it carries the label `dev.cubby.offline-pause`.
public enum SandboxImage {
    public static let standard = "registry.k8s.io/pause:3.10"
    static let offlineLabel = "dev.cubby.offline-pause"

    /// Makes sure the runtime has `image`, pulling it or importing the offline one.
    public static func ensure(_ image: String, runtime: RuntimeConnection, layout: RuntimeLayout, ctr: String, logger: Logger) async throws {
        let status = try await runtime.images.imageStatus(.with { $0.image.image = image })
        if status.hasImage { return }
        do {
            _ = try await runtime.images.pullImage(.with { $0.image.image = image })
            return
        } catch {
            logger.notice("cannot pull the sandbox image \(image) (\(error)); using one made offline")
        }
        let archive = layout.runDirectory.appendingPathComponent("pause.tar")
        try OCIArchive(name: image, files: [.init(path: "pause", mode: 0o755, contents: pauseProgram)],
                       config: ["Entrypoint": ["/pause"]], labels: [offlineLabel: "true"]).write(to: archive)
        defer { try? FileManager.default.removeItem(at: archive) }
        try await ImageArchive.load(archive.path, socket: layout.socketPath, ctr: ctr)
    }

    /// A static ELF executable: one loadable segment whose code loops on a blocking syscall.
    static var pauseProgram: [UInt8] {
        #if arch(arm64)
        // mov x0..x3, #0; mov x8, #73 (ppoll); svc #0; b loop
        let code: [UInt32] = [0xd280_0000, 0xd280_0001, 0xd280_0002, 0xd280_0003, 0xd280_0928, 0xd400_0001, 0x17ff_fffa]
        let machine: UInt16 = 0xb7
        let text = code.flatMap { word in (0..<4).map { UInt8(truncatingIfNeeded: word >> (8 * $0)) } }
        #else
        // mov eax, 34 (pause); syscall; jmp loop
        let machine: UInt16 = 0x3e
        let text: [UInt8] = [0xb8, 0x22, 0x00, 0x00, 0x00, 0x0f, 0x05, 0xeb, 0xf7]
        #endif
        let base: UInt64 = 0x40_0000, headers: UInt64 = 64 + 56
        var elf: [UInt8] = [0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0] + [UInt8](repeating: 0, count: 8)
        func le<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { elf += $0 } }
        le(UInt16(2)); le(machine); le(UInt32(1)); le(base + headers); le(UInt64(64)); le(UInt64(0))
        le(UInt32(0)); le(UInt16(64)); le(UInt16(56)); le(UInt16(1)); le(UInt16(0)); le(UInt16(0)); le(UInt16(0))
        let size = headers + UInt64(text.count)
        le(UInt32(1)); le(UInt32(5)); le(UInt64(0)); le(base); le(base); le(size); le(size); le(UInt64(0x1000))
        return elf + text
    }
}
