import Foundation

extension Classifier {
    /// Milliseconds each line takes alone (one `classify([line])` call: prepare, tokenize, run), sorted ascending.
    /// With a classifier loaded without a cache this is what a caller sending one line at a time waits.
    public func singleLineMilliseconds(_ lines: some Sequence<String>) -> [Double] {
        var latencies: [Double] = []
        for line in lines {
            let start = DispatchTime.now().uptimeNanoseconds
            _ = classify([line])
            latencies.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        return latencies.sorted()
    }
}
