import DequeModule
import Foundation
import Synchronization

/// One target's queue of accepted batches (one per `/v1/logs` request), bounded in bytes. In memory, or — with
/// `--spool` — on disk with only the batches' sizes in memory. The sender takes from the head and removes what
/// the store accepted; requests add at the tail once ``hasRoom(_:)`` said yes for every target.
final class ForwardQueue: Sendable {
    struct Batch: Sendable {
        var sequence: UInt64
        /// nil when the batch is in the spool.
        var fragments: [Fragment]?
        var bytes: Int
        var records: Int
    }

    private struct State {
        var batches = Deque<Batch>()
        var bytes = 0
        var records = 0
        var nextSequence: UInt64 = 1
    }

    let limitBytes: Int
    let spool: SpoolFolder?
    private let state = Mutex(State())
    private let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    init(limitBytes: Int, spool: SpoolFolder?, report: (String) -> Void) {
        self.limitBytes = limitBytes
        self.spool = spool
        (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        if let spool {
            let found = spool.recover(report: report)
            state.withLock { s in
                for e in found {
                    s.batches.append(Batch(sequence: e.sequence, fragments: nil, bytes: e.bytes, records: e.records))
                    s.bytes += e.bytes
                    s.records += e.records
                }
                // After every name in the folder, read or not: a new batch must never take the name of one left there.
                s.nextSequence = max(found.last?.sequence ?? 0, spool.highestSequence()) + 1
            }
            if !found.isEmpty { wake.yield() }
        }
    }

    /// Queued bytes and records now.
    var size: (bytes: Int, records: Int) { state.withLock { ($0.bytes, $0.records) } }

    /// Whether `bytes` more fit (an empty queue takes any one batch, so a batch larger than the limit still passes).
    func hasRoom(_ bytes: Int) -> Bool { state.withLock { $0.bytes == 0 || $0.bytes + bytes <= limitBytes } }

    /// The sequence number the next batch gets (reserved, so a spool file can be named before it is queued).
    func reserveSequence() -> UInt64 {
        state.withLock { s in
            defer { s.nextSequence += 1 }
            return s.nextSequence
        }
    }

    /// Adds a batch (written to the spool first, when there is one).
    func append(_ fragments: [Fragment], sequence: UInt64) throws {
        let bytes = fragments.byteCount
        if let spool { try spool.write(fragments, sequence: sequence) }
        state.withLock { s in
            // Sequences are reserved in order but may be appended out of order by concurrent requests.
            let batch = Batch(sequence: sequence, fragments: spool == nil ? fragments : nil, bytes: bytes, records: fragments.count)
            let at = s.batches.lastIndex { $0.sequence < sequence }.map { $0 + 1 } ?? 0
            s.batches.insert(batch, at: at)
            s.bytes += bytes
            s.records += fragments.count
        }
        wake.yield()
    }

    /// The oldest batches, up to `maxRecords` and `maxBytes` (at least one), with their fragments loaded.
    /// A damaged spool file is removed from the queue and returned as `lost`; a file that cannot be read for
    /// another reason (I/O, permissions) stays queued and is returned as `unreadable`, with the batches before it.
    func head(maxRecords: Int, maxBytes: Int) -> (batches: [Batch], lost: [(Batch, Error)], unreadable: Error?) {
        let taken: [Batch] = state.withLock { s in
            var out: [Batch] = [], records = 0, bytes = 0
            for b in s.batches {
                if !out.isEmpty && (records + b.records > maxRecords || bytes + b.bytes > maxBytes) { break }
                out.append(b)
                records += b.records
                bytes += b.bytes
            }
            return out
        }
        var batches: [Batch] = [], lost: [(Batch, Error)] = []
        for var b in taken {
            if b.fragments == nil, let spool {
                do { b.fragments = try spool.read(b.sequence) } catch let damage as SpoolFolder.Damage {
                    spool.setAside(b.sequence)
                    lost.append((b, damage))
                    remove([b])
                    continue
                } catch let error as CocoaError where error.code == .fileReadNoSuchFile {
                    lost.append((b, error))  // deleted by hand: nothing left to send
                    remove([b])
                    continue
                } catch {
                    return (batches, lost, error)
                }
            }
            batches.append(b)
        }
        return (batches, lost, nil)
    }

    /// Removes delivered (or dropped) batches, and their spool files.
    func remove(_ batches: [Batch]) {
        let sequences = Set(batches.map(\.sequence))
        state.withLock { s in
            s.batches.removeAll { b in
                guard sequences.contains(b.sequence) else { return false }
                s.bytes -= b.bytes
                s.records -= b.records
                return true
            }
        }
        if let spool { for b in batches { spool.remove(b.sequence) } }
    }

    /// Returns when a batch may have been added (or at once if one was added since the last call).
    func waitForWork() async {
        var iterator = wakeups.makeAsyncIterator()
        _ = await iterator.next()
    }

    func finish() { wake.finish() }
}
