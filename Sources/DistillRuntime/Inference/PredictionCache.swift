import Synchronization

/// A bounded least-recently-used map from a line's model text (its normalized form: level, source and masked
/// message for log models) to the class probabilities computed for it. A log stream repeats a few hundred
/// templates, so most lines cost a hash lookup instead of a forward pass. Bounded by entries and by bytes
/// (keys longer than ``maximumKeyBytes`` are not stored: long unique lines would fill memory). Thread-safe.
public final class PredictionCache: Sendable {
    /// Counters since creation (or the last ``clear()``).
    public struct Statistics: Sendable, Equatable {
        public var hits = 0, misses = 0, evictions = 0, entries = 0
        /// Approximate memory held: key bytes + 4 bytes per probability + 96 bytes of bookkeeping per entry.
        public var bytes = 0
        public let capacity: Int
        /// hits / (hits + misses), 0 before any lookup.
        public var hitRate: Double { hits + misses == 0 ? 0 : Double(hits) / Double(hits + misses) }
    }

    private struct Node {
        var key: String
        var value: [Float]
        var newer: Int
        var older: Int
    }

    /// Doubly linked recency list over array slots (-1 = none); `newest` is the head.
    private struct State {
        var index: [String: Int] = [:]
        var nodes: [Node] = []
        var newest = -1, oldest = -1
        /// Slots emptied by byte-bound evictions, reused first.
        var spare: [Int] = []
        var stats: Statistics

        mutating func unlink(_ i: Int) {
            let (newer, older) = (nodes[i].newer, nodes[i].older)
            if newer >= 0 { nodes[newer].older = older } else { newest = older }
            if older >= 0 { nodes[older].newer = newer } else { oldest = newer }
        }

        mutating func pushNewest(_ i: Int) {
            nodes[i].newer = -1
            nodes[i].older = newest
            if newest >= 0 { nodes[newest].newer = i }
            newest = i
            if oldest < 0 { oldest = i }
        }
    }

    private let state: Mutex<State>
    public let capacity: Int
    /// Upper bound on ``Statistics/bytes``.
    public let maximumBytes: Int
    /// Longest key stored.
    public let maximumKeyBytes: Int

    /// A cache holding at most `capacity` entries (at least 1) and about `maximumBytes` of keys and values.
    public init(capacity: Int, maximumBytes: Int = 64 << 20, maximumKeyBytes: Int = 4096) {
        self.capacity = max(1, capacity)
        self.maximumBytes = maximumBytes
        self.maximumKeyBytes = maximumKeyBytes
        state = Mutex(State(stats: Statistics(capacity: max(1, capacity))))
    }

    static func cost(_ key: String, _ value: [Float]) -> Int { key.utf8.count + 4 * value.count + 96 }

    /// Counts a lookup answered without the cache proper (a repeat of a text earlier in the same batch).
    public func recordHit() { state.withLock { $0.stats.hits += 1 } }

    /// The stored probabilities for `key` (marking it most recently used), counting a hit or a miss.
    public func value(for key: String) -> [Float]? {
        state.withLock { s in
            guard let i = s.index[key] else { s.stats.misses += 1; return nil }
            s.stats.hits += 1
            if s.newest != i { s.unlink(i); s.pushNewest(i) }
            return s.nodes[i].value
        }
    }

    /// Stores `value` for `key`, evicting least recently used entries while over the entry or byte bound.
    public func insert(_ value: [Float], for key: String) {
        guard key.utf8.count <= maximumKeyBytes else { return }
        let cost = Self.cost(key, value)
        state.withLock { s in
            if let i = s.index[key] {
                s.nodes[i].value = value
                if s.newest != i { s.unlink(i); s.pushNewest(i) }
                return
            }
            // Evict the oldest entries until this one fits (their slots are reused or left empty).
            var freeSlot: Int?
            while s.oldest >= 0, s.index.count >= capacity || s.stats.bytes + cost > maximumBytes {
                let victim = s.oldest
                s.unlink(victim)
                s.index[s.nodes[victim].key] = nil
                s.stats.bytes -= Self.cost(s.nodes[victim].key, s.nodes[victim].value)
                s.nodes[victim].key = ""
                s.nodes[victim].value = []
                s.stats.evictions += 1
                if freeSlot == nil { freeSlot = victim } else { s.spare.append(victim) }
            }
            let slot: Int
            if let reused = freeSlot ?? s.spare.popLast() {
                slot = reused
                s.nodes[slot].key = key
                s.nodes[slot].value = value
            } else {
                slot = s.nodes.count
                s.nodes.append(Node(key: key, value: value, newer: -1, older: -1))
            }
            s.index[key] = slot
            s.pushNewest(slot)
            s.stats.bytes += cost
            s.stats.entries = s.index.count
        }
    }

    public var statistics: Statistics { state.withLock { $0.stats } }

    /// Drops every entry and resets the counters (a model reload makes stored probabilities stale).
    public func clear() {
        state.withLock { s in s = State(stats: Statistics(capacity: capacity)) }
    }
}
