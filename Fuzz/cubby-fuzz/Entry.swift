import Foundation
import LibFuzzerDriver

/// One binary holds every target; CUBBY_FUZZ_TARGET names the one to run (scripts/fuzz.sh sets
/// it), so the whole set costs one instrumented build.
nonisolated(unsafe) var selected: FuzzTarget?

/// libFuzzer's callback; exported under its C name too, which libFuzzer's driver refers to.
@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    selected?.run(bytes)
    return 0
}

@main
enum FuzzMain {
    static func main() {
        #if CUBBY_FUZZ
        let name = ProcessInfo.processInfo.environment["CUBBY_FUZZ_TARGET"] ?? ""
        guard let target = FuzzTarget.all.first(where: { $0.name == name }) else {
            let names = FuzzTarget.all.map(\.name).joined(separator: ", ")
            fail("set CUBBY_FUZZ_TARGET to one of: \(names)")
        }
        selected = target
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, testOneInput))
        #else
        // Built without libFuzzer (a plain `swift build`), the binary only says how to run it.
        fail("cubby-fuzz runs under libFuzzer: use `make fuzz`")
        #endif
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("cubby-fuzz: \(message)\n".utf8))
        exit(2)
    }
}
