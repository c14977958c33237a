import DistillCore
#if canImport(Glibc)
import Glibc
#endif

/// Memory settings for the long-running inference commands (`classify`, `serve`): batches of many shapes
/// come and go, so idle tensor buffers are capped at `poolMegabytes`, and on glibc large blocks are mapped
/// and unmapped directly (instead of the heap growing to its high-water mark and staying there) with two
/// malloc arenas.
func configureInferenceMemory(poolMegabytes: Int) {
    BufferPool.shared.capacityBytes = poolMegabytes << 20
    #if canImport(Glibc)
    // mallopt is not in Swift's Glibc module: look it up (RTLD_DEFAULT is the null handle on glibc).
    typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
    if let symbol = dlsym(nil, "mallopt") {
        let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
        _ = mallopt(-3, 128 << 10)  // M_MMAP_THRESHOLD: blocks above 128 KiB are mapped and unmapped directly
        _ = mallopt(-8, 2)          // M_ARENA_MAX
    }
    #endif
}
