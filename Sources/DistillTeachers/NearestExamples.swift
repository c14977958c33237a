import DistillText
import Foundation

/// Few-shot examples chosen per line: the labelled lines whose masked messages share the most (IDF-weighted)
/// words with the line's, so that an LLM sees how lines like this one were labelled by hand.
///
/// The pool is deduplicated by masked line (the first labelled line of each key is kept); similarity is the
/// cosine of IDF-weighted word sets of the keys (words: lowercased letter runs of 2+ characters, placeholders
/// such as `<NUM>` left out). Ties keep pool order, so the choice is the same in every run; the examples are
/// returned least similar first, the closest right before the question. A line is never its own example.
public struct NearestExamples: Sendable {
    public let pool: [LLMTeacherSpec.FewShotExample]
    public let count: Int
    private let vectors: [[(id: Int, weight: Double)]]  // sorted by id
    private let idf: [String: Double]
    private let index: [String: Int]  // word -> id
    private let keys: [String]  // masked line of each pool entry

    public init(pool examples: [LLMTeacherSpec.FewShotExample], count: Int) {
        var seen = Set<String>(), pool: [LLMTeacherSpec.FewShotExample] = [], keys: [[String]] = [], masked: [String] = []
        for e in examples {
            let key = LabelingJob.templateKey(e.text)
            guard seen.insert(key).inserted else { continue }
            pool.append(e)
            masked.append(key)
            keys.append(Self.words(key))
        }
        var df: [String: Int] = [:]
        for k in keys { for w in Set(k) { df[w, default: 0] += 1 } }
        let n = max(1, pool.count)
        var idf: [String: Double] = [:], index: [String: Int] = [:]
        for (w, d) in df.sorted(by: { $0.key < $1.key }) {
            idf[w] = log((1 + Double(n)) / Double(1 + d)) + 1
            index[w] = index.count
        }
        self.pool = pool
        self.count = count
        self.idf = idf
        self.index = index
        self.keys = masked
        vectors = keys.map { Self.vector(Set($0), idf: idf, index: index) }
    }

    /// Lowercased runs of 2+ ASCII letters of a masked key, placeholders (`<NUM>`, `<IP>`: `<` capitals `>`) skipped.
    public static func words(_ key: String) -> [String] {
        var out: [String] = [], current = ""
        func flush() { if current.count >= 2 { out.append(current.lowercased()) }; current = "" }
        let scalars = Array(key.unicodeScalars)
        var i = 0
        while i < scalars.count {
            let c = scalars[i]
            if c == "<", let end = scalars[(i + 1)...].firstIndex(where: { !(($0 >= "A" && $0 <= "Z") || $0 == "_") }), end > i + 1, scalars[end] == ">" {
                flush()
                i = end + 1
                continue
            }
            if (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") { current.unicodeScalars.append(c) } else { flush() }
            i += 1
        }
        flush()
        return out
    }

    /// Unit-length IDF weights of the words, sorted by word id (sums in this order are the same in every process).
    private static func vector(_ words: Set<String>, idf: [String: Double], index: [String: Int]) -> [(id: Int, weight: Double)] {
        let v = words.compactMap { w in index[w].map { (id: $0, weight: idf[w]!) } }.sorted { $0.id < $1.id }
        let norm = v.reduce(0) { $0 + $1.weight * $1.weight }.squareRoot()
        return norm > 0 ? v.map { ($0.id, $0.weight / norm) } : []
    }

    /// The `count` pool lines most similar to `text` (fewer if the pool is smaller), least similar first. A pool
    /// line with the same masked line as `text` is left out: a labelled line is not its own example.
    public func examples(for text: String) -> [LLMTeacherSpec.FewShotExample] {
        guard count > 0, !pool.isEmpty else { return [] }
        let key = LabelingJob.templateKey(text)
        let q = Dictionary(uniqueKeysWithValues: Self.vector(Set(Self.words(key)), idf: idf, index: index).map { ($0.id, $0.weight) })
        var scored: [(score: Double, i: Int)] = []
        for (i, v) in vectors.enumerated() where keys[i] != key {
            var s = 0.0
            for (id, w) in v { if let x = q[id] { s += w * x } }
            scored.append(((s * 1e9).rounded() / 1e9, i))
        }
        scored.sort { $0.score != $1.score ? $0.score > $1.score : $0.i < $1.i }
        return scored.prefix(count).reversed().map { pool[$0.i] }
    }

    /// What shapes the choice, for the prompt version: the pool and the count.
    public var fingerprint: String {
        String(Fingerprint.of(["nearest", "\(count)"] + pool.flatMap { [$0.text, $0.label] }), radix: 16)
    }
}
