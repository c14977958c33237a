import Dispatch

/// Wall-clock timing for benchmarks: warm up, then the median over `trials` of the mean time per call,
/// each trial running at least `minimumSeconds`.
func medianSecondsPerCall(trials: Int = 5, minimumSeconds: Double = 0.2, _ body: () -> Void) -> Double {
    body()  // warm-up (page faults, pool fill, BLAS thread start)
    var samples: [Double] = []
    for _ in 0..<trials {
        var calls = 0
        let start = DispatchTime.now().uptimeNanoseconds
        var elapsed = 0.0
        repeat {
            body()
            calls += 1
            elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        } while elapsed < minimumSeconds
        samples.append(elapsed / Double(calls))
    }
    samples.sort()
    return samples[samples.count / 2]
}
