import Dispatch
import Foundation
import Synchronization
#if canImport(Accelerate)
import Accelerate
#else
import CBLAS
#endif

/// How many CPU threads Distill's compute uses: the width of ``parallelFor(_:grain:_:)`` and of GEMM splitting.
///
/// BLAS runs single-threaded inside each call (see ``BLAS``), so the only compute threads are these.
/// The rule that avoids oversubscription: when `callers` threads run models concurrently (e.g. a server's
/// workers), each gets `threads / callers` compute threads, so compute threads x callers <= cores.
public enum ComputeThreads {
    private static let width = Atomic<Int>(ProcessInfo.processInfo.activeProcessorCount)

    /// Threads each compute call may use.
    public static var count: Int { width.load(ordering: .relaxed) }

    /// Sets the thread budget: `threads` in total (default: all cores), shared by `callers` concurrent callers.
    public static func configure(threads: Int? = nil, callers: Int = 1) {
        let total = max(1, threads ?? ProcessInfo.processInfo.activeProcessorCount)
        let each = max(1, total / max(1, callers))
        width.store(each, ordering: .relaxed)
    }

    /// Threads the BLAS library uses inside one call (1 once Distill has issued a GEMM).
    public static var blasThreads: Int {
        _ = BLAS.singleThreaded
        #if canImport(Accelerate)
        return 1
        #else
        return Int(openblas_get_num_threads())
        #endif
    }
}

/// Calls `body` on disjoint ranges covering `0..<count`, in parallel when `count` is large (on the calling
/// thread's ``WorkerTeam`` inside one, else on Dispatch's threads).
///
/// Ranges are cut every `grain` elements whatever the thread count, so per-range results (and anything
/// combined from them in range order) are the same with 1 or many threads.
public func parallelFor(_ count: Int, grain: Int = 32_768, _ body: (Range<Int>) -> Void) {
    let chunks = (count + grain - 1) / grain
    let workers = min(ComputeThreads.count, chunks)
    if workers <= 1 {
        if count > 0 { body(0..<count) }
        return
    }
    func worker(_ w: Int, of workers: Int) {
        var c = w
        while c < chunks {
            body(c * grain..<min(count, (c + 1) * grain))
            c += workers
        }
    }
    if let team = WorkerTeam.current {
        let participants = min(workers, team.size)
        team.perform(participants) { w in worker(w, of: participants) }
        return
    }
    withoutActuallyEscaping(worker) { worker in
        let box = UnsafeSendable(worker)
        DispatchQueue.concurrentPerform(iterations: workers) { w in box.value(w, workers) }
    }
}

/// Runs `body(worker)` for `worker` in `0..<workers` (inline when `workers` is 1; on the calling thread's
/// ``WorkerTeam`` inside one): one task per compute thread, for callers that split work themselves (the inference
/// engines, one workspace each). Concurrency is not promised — a team runs the workers beyond its size after its
/// share, and a nested call runs them one after another — so a body must never wait for another worker.
public func forEachWorker(_ workers: Int, _ body: (Int) -> Void) {
    if workers <= 1 {
        if workers == 1 { body(0) }
        return
    }
    if let team = WorkerTeam.current {
        // A team smaller than `workers` runs the rest inline, after its share.
        team.perform(min(workers, team.size)) { w in body(w) }
        for w in team.size..<max(team.size, workers) { body(w) }
        return
    }
    withoutActuallyEscaping(body) { body in
        let box = UnsafeSendable(body)
        DispatchQueue.concurrentPerform(iterations: workers) { w in box.value(w) }
    }
}

/// Wraps a value that is safe to share across the workers of one `parallelFor`/``forEachWorker(_:_:)`` call
/// (e.g. a buffer they write at disjoint indices).
public struct UnsafeSendable<T>: @unchecked Sendable {
    public let value: T
    public init(_ value: T) { self.value = value }
}
