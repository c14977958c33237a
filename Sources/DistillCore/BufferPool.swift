#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// A process-wide pool of Float32 buffers, bucketed by element count (exact below 64K elements, size classes above).
///
/// A training step allocates the same activation and gradient sizes every step, so tensors return their
/// buffers here when they die and the next step reuses them instead of calling `malloc`. The pool holds at
/// most ``capacityBytes`` of idle memory; beyond that buffers are freed.
public final class BufferPool: Sendable {
    /// The pool every tensor uses.
    public static let shared = BufferPool()

    /// Counters for benchmarks and tests.
    public struct Statistics: Sendable, Equatable {
        /// Buffers handed out from the pool.
        public var reused: Int = 0
        /// Buffers that had to be allocated.
        public var allocated: Int = 0
        /// Bytes currently idle in the pool.
        public var idleBytes: Int = 0
    }

    /// A raw buffer address; only the pool and its owning storage touch it.
    private struct Buffer: @unchecked Sendable { let pointer: UnsafeMutablePointer<Float> }

    private struct State {
        var free: [Int: [Buffer]] = [:]
        var stats = Statistics()
        var capacityBytes = 256 << 20
    }

    private let state = Mutex(State())

    init() {}

    /// Upper bound on idle bytes kept for reuse (default 256 MiB; an edge process may lower it).
    public var capacityBytes: Int {
        get { state.withLock { $0.capacityBytes } }
        set { state.withLock { $0.capacityBytes = newValue } }
    }

    /// A snapshot of the counters.
    public var statistics: Statistics { state.withLock { $0.stats } }

    /// Resets the reuse/allocation counters (idle bytes are kept).
    public func resetCounters() {
        state.withLock { $0.stats.reused = 0; $0.stats.allocated = 0 }
    }

    /// Frees every idle buffer.
    public func drain() {
        let buffers = state.withLock { s -> [Buffer] in
            let all = s.free.values.flatMap { $0 }
            s.free.removeAll()
            s.stats.idleBytes = 0
            return all
        }
        for b in buffers { b.pointer.deallocate() }
    }

    /// Buffers of at least this many bytes are aligned to ``hugePageSize`` and offered huge pages.
    static let hugePageThreshold = 4 << 20
    static let hugePageSize = 2 << 20

    /// The elements a buffer for `count` holds, which is also its pool bucket: `count` itself below 64K elements
    /// (activations recur at exact sizes), above it the next of 2^k and 1.5·2^k (at most half as much again, a third on average), so
    /// sizes that vary from step to step — the rows a batch read — still find a buffer instead of mapping new pages.
    public static func capacity(for count: Int) -> Int {
        guard count > 1 << 16 else { return max(count, 1) }
        let power = 1 << (Int.bitWidth - 1 - (count - 1).leadingZeroBitCount)  // the largest 2^k < count
        return count <= power + power / 2 ? power + power / 2 : 2 * power
    }

    func take(count requested: Int) -> UnsafeMutablePointer<Float> {
        let count = Self.capacity(for: requested)
        let reused = state.withLock { s -> Buffer? in
            if let b = s.free[count]?.popLast() {
                s.stats.reused += 1
                s.stats.idleBytes -= count * 4
                return b
            }
            s.stats.allocated += 1
            return nil
        }
        if let reused { return reused.pointer }
        let bytes = count * 4
        let huge = bytes >= Self.hugePageThreshold
        let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: huge ? Self.hugePageSize : 64)
        #if os(Linux)
        // Embedding tables and optimizer moments are read at random rows: with 4 KB pages nearly every row costs a
        // TLB miss. Transparent huge pages (2 MB) where the kernel offers them on request (`madvise` mode).
        if huge { _ = madvise(raw, bytes, Int32(MADV_HUGEPAGE)) }
        #endif
        return raw.bindMemory(to: Float.self, capacity: count)
    }

    func give(_ pointer: UnsafeMutablePointer<Float>, count requested: Int) {
        let count = Self.capacity(for: requested)
        let buffer = Buffer(pointer: pointer)
        let evicted = state.withLock { s -> [Buffer] in
            let bytes = count * 4
            guard bytes <= s.capacityBytes else { return [buffer] }
            // Make room by freeing idle buffers of other sizes, largest first (shapes that stopped recurring).
            var out: [Buffer] = []
            while s.stats.idleBytes + bytes > s.capacityBytes,
                  let size = s.free.keys.filter({ $0 != count && !(s.free[$0]?.isEmpty ?? true) }).max() {
                out.append(s.free[size]!.removeLast())
                if s.free[size]!.isEmpty { s.free.removeValue(forKey: size) }
                s.stats.idleBytes -= size * 4
            }
            guard s.stats.idleBytes + bytes <= s.capacityBytes else { return out + [buffer] }
            s.free[count, default: []].append(buffer)
            s.stats.idleBytes += bytes
            return out
        }
        for b in evicted { b.pointer.deallocate() }
    }
}

/// Contiguous Float32 memory owned by one or more tensors (reshape shares it).
public final class TensorStorage: @unchecked Sendable {
    /// Number of Float32 elements.
    public let count: Int
    /// Start of the elements; valid while the storage lives.
    public let pointer: UnsafeMutablePointer<Float>

    /// Takes a buffer from the pool; when `zeroed`, fills it with 0.
    public init(count: Int, zeroed: Bool) {
        self.count = count
        self.pointer = BufferPool.shared.take(count: count)
        if zeroed { pointer.initialize(repeating: 0, count: count) }
    }

    deinit { BufferPool.shared.give(pointer, count: count) }
}
