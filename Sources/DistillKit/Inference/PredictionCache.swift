import Synchronization

/// A bounded least-recently-used map from a line's model text (its normalized form: level, source and masked
/// message for log models) to the class probabilities computed for it. A log stream repeats a few hundred
/// templates, so most lines cost a hash lookup instead of a forward pass. Thread-safe.
public final class PredictionCache: Sendable {
    /// Counters since creation (or the last ``clear()``).
    public struct Statistics: Sendable, Equatable {
        public var hits = 0, misses = 0, evictions = 0, entries = 0
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

    /// A cache holding at most `capacity` entries (at least 1).
    public init(capacity: Int) {
        self.capacity = max(1, capacity)
        state = Mutex(State(stats: Statistics(capacity: max(1, capacity))))
    }

    /// The stored probabilities for `key` (marking it most recently used), counting a hit or a miss.
    public func value(for key: String) -> [Float]? {
        state.withLock { s in
            guard let i = s.index[key] else { s.stats.misses += 1; return nil }
            s.stats.hits += 1
            if s.newest != i { s.unlink(i); s.pushNewest(i) }
            return s.nodes[i].value
        }
    }

    /// Stores `value` for `key`, evicting the least recently used entry when full.
    public func insert(_ value: [Float], for key: String) {
        state.withLock { s in
            if let i = s.index[key] {
                s.nodes[i].value = value
                if s.newest != i { s.unlink(i); s.pushNewest(i) }
                return
            }
            let slot: Int
            if s.nodes.count < capacity {
                slot = s.nodes.count
                s.nodes.append(Node(key: key, value: value, newer: -1, older: -1))
            } else {
                slot = s.oldest
                s.unlink(slot)
                s.index[s.nodes[slot].key] = nil
                s.nodes[slot].key = key
                s.nodes[slot].value = value
                s.stats.evictions += 1
            }
            s.index[key] = slot
            s.pushNewest(slot)
            s.stats.entries = s.index.count
        }
    }

    public var statistics: Statistics { state.withLock { $0.stats } }

    /// Drops every entry and resets the counters (a model reload makes stored probabilities stale).
    public func clear() {
        state.withLock { s in s = State(stats: Statistics(capacity: capacity)) }
    }
}
