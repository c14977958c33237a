import Synchronization

/// A process-wide pool of Float32 buffers, bucketed by exact element count.
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

    func take(count: Int) -> UnsafeMutablePointer<Float> {
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
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * 4, alignment: 64)
        return raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    func give(_ pointer: UnsafeMutablePointer<Float>, count: Int) {
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
