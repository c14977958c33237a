/// Scratch memory of one inference worker: float buffers by slot, kept between calls and grown (by at
/// least half) only when a call needs more. In steady state — batches no larger than one seen before — a
/// forward pass allocates nothing; ``growths`` counts the allocations so tests can hold that.
///
/// Not thread-safe: each worker owns one.
public final class InferenceWorkspace {
    private var buffers: [UnsafeMutablePointer<Float>?]
    private var capacities: [Int]
    /// Buffer (re)allocations since creation.
    public private(set) var growths = 0
    /// Token ids and sequence starts of the tile being processed (reused arrays).
    public var ids: [Int] = []
    public var starts: [Int] = []

    public init(slots: Int) {
        buffers = Array(repeating: nil, count: slots)
        capacities = Array(repeating: 0, count: slots)
    }

    deinit { for b in buffers { b?.deallocate() } }

    /// Slot `slot`'s buffer with room for at least `count` floats (contents unspecified).
    public func floats(_ slot: Int, count: Int) -> UnsafeMutablePointer<Float> {
        if count > capacities[slot] || buffers[slot] == nil {
            buffers[slot]?.deallocate()
            let capacity = max(count, capacities[slot] + capacities[slot] / 2, 64)
            buffers[slot] = .allocate(capacity: capacity)
            capacities[slot] = capacity
            growths += 1
        }
        return buffers[slot]!
    }

    /// Floats held across all slots.
    public var capacity: Int { capacities.reduce(0, +) }
}
