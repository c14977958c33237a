import DistillText
import Testing

@Suite("n-gram featurizer")
struct NGramFeaturizerTests {
    /// ASCII lines take a byte path; it must give exactly the general path's features (saved models depend on them).
    @Test("the ASCII path equals the Unicode path", arguments: [
        NGramFeaturizer(buckets: 32_768), NGramFeaturizer(buckets: 1 << 18, maxWordNGram: 3, minCharNGram: 2, maxCharNGram: 4, lowercase: false),
        NGramFeaturizer(buckets: 97, maxWordNGram: 1, minCharNGram: 0, maxCharNGram: 0),
    ])
    func asciiPath(featurizer: NGramFeaturizer) {
        var lines = [
            "E1129 01:02:03.456789   12 kubelet.go:1] disk /dev/sda1 97% full",
            #"{"level":"ERROR","msg":"connection to 10.0.0.5:5432 refused"}"#,
            "", " ", "a", "ab", "A-B_c", "tab\there\r\nnew\u{0B}line\u{0C}feed\u{7F}del\u{01}ctl", "x!y\"z#w$v%u&t'", "(((", "UPPER lower MiXeD",
        ]
        var g = SplitMix(seed: 3)
        for _ in 0..<400 {
            let n = Int(g.next() % 60)
            lines.append(String(decoding: (0..<n).map { _ in UInt8(g.next() % 128) }, as: UTF8.self))
        }
        for line in lines {
            #expect(featurizer.features(line) == featurizer.unicodeFeatures(line), "\(line.debugDescription)")
        }
        #expect(featurizer.features("héllo wörld") == featurizer.unicodeFeatures("héllo wörld"))
    }
}

/// A tiny deterministic generator for test inputs.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
