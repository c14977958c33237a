import DistillCore
import Foundation
import Synchronization
import Testing

@Suite("WorkerTeam")
struct WorkerTeamTests {
    /// The calling thread's id, comparable across threads.
    private static func threadID() -> UInt {
        #if canImport(Darwin)
        UInt(bitPattern: pthread_self())
        #else
        UInt(pthread_self())
        #endif
    }

    /// The thread that ran each participant of one `forEachWorker` call, and how many times each ran.
    private final class Recorder: @unchecked Sendable {
        let lock = NSLock()
        var threads: [Int: UInt] = [:]
        var runs: [Int: Int] = [:]
        func note(_ worker: Int) {
            lock.lock()
            threads[worker] = WorkerTeamTests.threadID()
            runs[worker, default: 0] += 1
            lock.unlock()
        }
    }

    @Test("parallel calls inside a team reach every index once, on the team's threads, awake or asleep")
    func coversEveryIndex() throws {
        let count = 100_003
        // Each index is counted by the one range that holds it: a range given twice, or to two threads, shows as 2.
        let visits = UnsafeMutableBufferPointer<Int>.allocate(capacity: count)
        visits.initialize(repeating: 0)
        defer { visits.deallocate() }
        let shared = UnsafeSendable(visits)
        try WorkerTeam.run(threads: 2) {
            let caller = Self.threadID()
            // Back-to-back calls (helpers spinning), then calls after the helpers have gone to sleep.
            for round in 0..<2_000 {
                if round % 500 == 499 { Thread.sleep(forTimeInterval: 0.01) }
                let recorder = Recorder()
                forEachWorker(2) { w in recorder.note(w) }
                #expect(recorder.runs == [0: 1, 1: 1], "each participant runs once")
                #expect(recorder.threads[0] == caller, "participant 0 runs on the calling thread")
                #expect(recorder.threads[1] != caller, "participant 1 runs on a helper")
                if recorder.runs != [0: 1, 1: 1] || recorder.threads[1] == caller { throw CancellationError() }
            }
            parallelFor(count, grain: 1_000) { r in
                for i in r { shared.value[i] += 1 }
            }
        }
        #expect(visits.allSatisfy { $0 == 1 })
    }

    @Test("a parallel call made inside a team's job runs inline and completes")
    func nestedCallsRunInline() {
        let total = Atomic<Int>(0)
        WorkerTeam.run(threads: 2) {
            forEachWorker(2) { _ in
                parallelFor(10_000, grain: 100) { r in total.add(r.count, ordering: .relaxed) }
                forEachWorker(3) { _ in total.add(1, ordering: .relaxed) }
            }
        }
        #expect(total.load(ordering: .relaxed) == 2 * (10_000 + 3))
    }

    @Test("more workers than the team has threads: the rest run inline; with one thread there is no team")
    func widthsOtherThanTheTeams() {
        let seen = Mutex<Set<Int>>([])
        WorkerTeam.run(threads: 2) {
            forEachWorker(5) { w in _ = seen.withLock { $0.insert(w) } }
        }
        #expect(seen.withLock { $0 } == Set(0..<5))
        let recorder = Recorder()
        let teamed = WorkerTeam.run(threads: 1) {
            forEachWorker(2) { w in recorder.note(w) }
            return WorkerTeam.isServingCurrentThread
        }
        #expect(!teamed)
        #expect(recorder.runs == [0: 1, 1: 1])
        #expect(!WorkerTeam.isServingCurrentThread)
        #expect(WorkerTeam.run(threads: 2) { WorkerTeam.isServingCurrentThread })
    }

    @Test("a throwing body still stops the team, and the thread can start another")
    func throwingBody() {
        struct Failure: Error {}
        #expect(throws: Failure.self) { try WorkerTeam.run(threads: 2) { throw Failure() } }
        let sum = Atomic<Int>(0)
        WorkerTeam.run(threads: 2) { parallelFor(1_000, grain: 10) { r in sum.add(r.count, ordering: .relaxed) } }
        #expect(sum.load(ordering: .relaxed) == 1_000)
    }
}
