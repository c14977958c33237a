import CVectorKernels
import Dispatch
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Compute threads kept awake between parallel calls, for loops that make thousands of short ones a second.
///
/// Outside a team, ``parallelFor(_:grain:_:)`` and ``forEachWorker(_:_:)`` hand each call to Dispatch, whose idle
/// threads sleep: waking one costs tens of microseconds, as much as a whole phase of a small training step (the
/// n-gram bag makes three parallel calls a step, a few thousand steps a second). Inside ``run(threads:_:)``, the
/// parallel calls of the calling thread go to helper threads that wait for the next call spinning, for up to
/// ``spinLimit``, then sleep. Work is cut into the same ranges as without a team, so results are the same bits.
/// A parallel call made inside a team's job runs inline, on the thread that made it.
public final class WorkerTeam: @unchecked Sendable {
    /// Threads that run a call's jobs, the calling thread included.
    public let size: Int
    /// How long an idle helper spins for the next call before it sleeps.
    public static let spinLimit: Duration = .milliseconds(1)

    /// The round and its participant count, `round << 16 | participants`: a helper runs job `index` of each new
    /// round when `index < participants`. Written only by the owner.
    private let signal = Atomic<Int>(0)
    /// Participating helpers that have not finished the current round's job.
    private let pending = Atomic<Int>(0)
    /// Helpers asleep (or about to sleep) on ``condition``.
    private let sleeping = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    private let condition = NSCondition()
    private let exited = DispatchGroup()
    /// The current round's job; written by the owner before the round is signalled, read by helpers after.
    private var job: ((Int) -> Void)?
    /// Whether the owner is inside a round (a parallel call from its job then runs inline). Owner thread only.
    private var busy = false
    private let owner: pthread_t

    private init(size: Int) {
        self.size = size
        owner = pthread_self()
        for index in 1..<size {
            exited.enter()
            let thread = Thread { [self] in
                WorkerTeam.install(self)
                helperLoop(index)
                exited.leave()
            }
            thread.name = "distill-worker-\(index)"
            thread.start()
        }
    }

    /// Runs `body` with a team of `threads` threads (default: ``ComputeThreads/count``) serving the parallel calls
    /// this thread makes in it; the helpers stop when it returns. One thread, or a call from inside another team,
    /// runs `body` as it is.
    public static func run<R>(threads: Int? = nil, _ body: () throws -> R) rethrows -> R {
        let size = min(max(1, threads ?? ComputeThreads.count), 1 << 15)
        guard size > 1, current == nil else { return try body() }
        let team = WorkerTeam(size: size)
        install(team)
        defer {
            install(nil)
            team.stop()
        }
        return try body()
    }

    /// Whether a team serves the calling thread's parallel calls (inside ``run(threads:_:)``, or on a helper).
    public static var isServingCurrentThread: Bool { current != nil }

    /// The team serving the calling thread's parallel calls, if any.
    static var current: WorkerTeam? {
        pthread_getspecific(teamKey).map { Unmanaged<WorkerTeam>.fromOpaque($0).takeUnretainedValue() }
    }

    private static func install(_ team: WorkerTeam?) {
        pthread_setspecific(teamKey, team.map { UnsafeRawPointer(Unmanaged.passUnretained($0).toOpaque()) })
    }

    /// Runs `body(w)` for `w` in `0..<participants` (at most ``size``): `w` 0 on the calling thread, the others on
    /// helpers. Inline, one after another, when called from a helper or from inside a job.
    func perform(_ participants: Int, _ body: (Int) -> Void) {
        let participants = min(participants, size)
        guard participants > 1, !busy, pthread_equal(pthread_self(), owner) != 0 else {
            for w in 0..<max(participants, 0) { body(w) }
            return
        }
        busy = true
        defer { busy = false }
        withoutActuallyEscaping(body) { body in
            job = body
            pending.store(participants - 1, ordering: .relaxed)
            let round = (signal.load(ordering: .relaxed) >> 16) + 1
            signal.store(round << 16 | participants, ordering: .sequentiallyConsistent)
            wakeSleepers()
            body(0)
            var spins = 0
            while pending.load(ordering: .acquiring) > 0 {
                spins += 1
                // A helper the system descheduled mid-job: let other threads run instead of spinning on.
                if spins & 1023 == 0 { sched_yield() } else { distill_cpu_relax() }
            }
            job = nil
        }
    }

    /// Wakes every sleeping helper, participants or not (the others check the round and spin again): on the
    /// 2-4-thread teams training uses, one condition for all costs nothing worth a condition per helper.
    private func wakeSleepers() {
        guard sleeping.load(ordering: .sequentiallyConsistent) > 0 else { return }
        condition.lock()
        condition.broadcast()
        condition.unlock()
    }

    private func helperLoop(_ index: Int) {
        var seen = 0
        while true {
            seen = nextSignal(after: seen)
            if stopping.load(ordering: .acquiring) { return }
            guard index < seen & 0xFFFF else { continue }
            runJob(index)
            // After the job's closure is released: the owner ends `withoutActuallyEscaping` once all are done.
            pending.subtract(1, ordering: .releasing)
        }
    }

    @inline(never)
    private func runJob(_ index: Int) {
        if let job { job(index) }
    }

    /// Waits for a signal other than `seen`: spinning for up to ``spinLimit``, then asleep.
    private func nextSignal(after seen: Int) -> Int {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: Self.spinLimit)
        var spins = 0
        while true {
            let now = signal.load(ordering: .acquiring)
            if now != seen { return now }
            spins += 1
            if spins & 255 == 0, clock.now >= deadline { break }
            distill_cpu_relax()
        }
        condition.lock()
        sleeping.add(1, ordering: .sequentiallyConsistent)
        while signal.load(ordering: .sequentiallyConsistent) == seen { condition.wait() }
        sleeping.subtract(1, ordering: .sequentiallyConsistent)
        condition.unlock()
        return signal.load(ordering: .acquiring)
    }

    private func stop() {
        stopping.store(true, ordering: .releasing)
        signal.store(((signal.load(ordering: .relaxed) >> 16) + 1) << 16, ordering: .sequentiallyConsistent)
        wakeSleepers()
        exited.wait()
    }
}

/// The thread-local slot of ``WorkerTeam/current``.
private let teamKey: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key, nil)
    return key
}()
