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
        let buffers = state.withLock { s -> [(Buffer, Int)] in
            let all = s.free.flatMap { size, buffers in buffers.map { ($0, size) } }
            s.free.removeAll()
            s.stats.idleBytes = 0
            return all
        }
        for (b, size) in buffers { Self.release(b.pointer, count: size) }
    }

    /// On Linux, new buffers of at least this many bytes are fresh mappings aligned to ``hugePageSize`` and offered
    /// huge pages (elsewhere they come from `allocate`).
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

    /// A buffer for `requested` elements: an idle one of its size class, or a new one. With `zeroed`, every element
    /// is 0: a new buffer of ``hugePageThreshold`` or more is fresh anonymous memory, zero already, whose pages the
    /// kernel maps only when first written (an optimizer moment of which a run touches a few rows costs only those).
    func take(count requested: Int, zeroed: Bool = false) -> UnsafeMutablePointer<Float> {
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
        if let reused {
            if zeroed { reused.pointer.initialize(repeating: 0, count: requested) }
            return reused.pointer
        }
        let bytes = count * 4
        #if os(Linux)
        if bytes >= Self.hugePageThreshold {
            // As an allocation that fails: the process is out of memory.
            guard let mapped = Self.mapZeroed(bytes: bytes) else { preconditionFailure("BufferPool: out of memory mapping \(bytes) bytes") }
            return mapped
        }
        #endif
        let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        let pointer = raw.bindMemory(to: Float.self, capacity: count)
        if zeroed { pointer.initialize(repeating: 0, count: requested) }
        return pointer
    }

    /// Fresh anonymous memory of `bytes` bytes (zero), aligned to ``hugePageSize`` and offered huge pages: embedding
    /// tables and optimizer moments are read at random rows, and with 4 KB pages nearly every row costs a TLB miss.
    /// nil when the system refuses the mapping.
    #if os(Linux)
    private static func mapZeroed(bytes: Int) -> UnsafeMutablePointer<Float>? {
        // Map one huge page more and give back the unaligned ends.
        let length = bytes + hugePageSize
        guard let base = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), base != MAP_FAILED else { return nil }
        let address = Int(bitPattern: base)
        let aligned = (address + hugePageSize - 1) / hugePageSize * hugePageSize
        if aligned > address { munmap(base, aligned - address) }
        let tail = address + length - (aligned + bytes)
        if tail > 0 { munmap(UnsafeMutableRawPointer(bitPattern: aligned + bytes), tail) }
        let start = UnsafeMutableRawPointer(bitPattern: aligned)!
        _ = madvise(start, bytes, Int32(MADV_HUGEPAGE))
        return start.bindMemory(to: Float.self, capacity: bytes / 4)
    }
    #endif

    /// Returns a buffer of the size class `count` to the system: mapped ones are unmapped.
    private static func release(_ pointer: UnsafeMutablePointer<Float>, count: Int) {
        #if os(Linux)
        if count * 4 >= hugePageThreshold {
            munmap(UnsafeMutableRawPointer(pointer), count * 4)
            return
        }
        #endif
        pointer.deallocate()
    }

    func give(_ pointer: UnsafeMutablePointer<Float>, count requested: Int) {
        let count = Self.capacity(for: requested)
        let buffer = Buffer(pointer: pointer)
        let evicted = state.withLock { s -> [(Buffer, Int)] in
            let bytes = count * 4
            guard bytes <= s.capacityBytes else { return [(buffer, count)] }
            // Make room by freeing idle buffers of other sizes, largest first (shapes that stopped recurring).
            var out: [(Buffer, Int)] = []
            while s.stats.idleBytes + bytes > s.capacityBytes,
                  let size = s.free.keys.filter({ $0 != count && !(s.free[$0]?.isEmpty ?? true) }).max() {
                out.append((s.free[size]!.removeLast(), size))
                if s.free[size]!.isEmpty { s.free.removeValue(forKey: size) }
                s.stats.idleBytes -= size * 4
            }
            guard s.stats.idleBytes + bytes <= s.capacityBytes else { return out + [(buffer, count)] }
            s.free[count, default: []].append(buffer)
            s.stats.idleBytes += bytes
            return out
        }
        for (b, size) in evicted { Self.release(b.pointer, count: size) }
    }
}

/// Contiguous Float32 memory owned by one or more tensors (reshape shares it).
public final class TensorStorage: @unchecked Sendable {
    /// Number of Float32 elements.
    public let count: Int
    /// Start of the elements; valid while the storage lives.
    public let pointer: UnsafeMutablePointer<Float>

    /// Takes a buffer from the pool; when `zeroed`, every element is 0.
    public init(count: Int, zeroed: Bool) {
        self.count = count
        self.pointer = BufferPool.shared.take(count: count, zeroed: zeroed)
    }

    deinit { BufferPool.shared.give(pointer, count: count) }
}
