import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Gives memory freed after a burst back to the system. glibc's malloc keeps what a burst freed
/// in its arenas (it returns only the top of each heap), so after hundreds of watchers end or a
/// write burst passes, the process would stay at its peak size though nothing holds the memory:
/// a trim a few seconds later brings it back to what is in use. Elsewhere (macOS) the allocator
/// returns free pages on its own and this does nothing.
public enum FreeMemory {
    private static let pending = Atomic<Bool>(false)

    #if canImport(Glibc)
    /// glibc's `malloc_trim`, looked up where it is (Swift's Glibc module leaves malloc.h out); nil
    /// with another C library.
    private static let mallocTrim: (@convention(c) (Int) -> Int32)? = dlsym(nil, "malloc_trim").map {
        unsafeBitCast($0, to: (@convention(c) (Int) -> Int32).self)
    }
    #endif

    /// Trims once, `delay` from now; calls while a trim is pending share it, so a burst of
    /// endings costs one trim.
    public static func trimSoon(after delay: DispatchTimeInterval = .seconds(3)) {
        #if canImport(Glibc)
        guard let trim = mallocTrim, !pending.exchange(true, ordering: .acquiringAndReleasing) else { return }
        // On a dispatch thread of its own: the trim walks the heap, which must not hold up an
        // event loop or the cooperative pool's few threads.
        DispatchQueue.global(qos: .utility).asyncAfter(deadline: .now() + delay) {
            pending.store(false, ordering: .releasing)
            _ = trim(0)
        }
        #endif
    }
}
