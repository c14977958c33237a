import DistillKit
import Foundation

/// Few-shot examples chosen per line: the labelled lines whose masked messages share the most (IDF-weighted)
/// words with the line's, so that an LLM sees how lines like this one were labelled by hand.
///
/// The pool is deduplicated by masked line (the first labelled line of each key is kept); similarity is the
/// cosine of IDF-weighted word sets of the keys (words: lowercased letter runs of 2+ characters, placeholders
/// such as `<NUM>` left out). Ties keep pool order, so the choice is deterministic; the examples are returned
/// least similar first, the closest right before the question.
public struct NearestExamples: Sendable {
    public let pool: [LLMTeacherSpec.FewShotExample]
    public let count: Int
    private let vectors: [[Int: Float]]
    private let idf: [String: Float]
    private let index: [String: Int]  // word -> id

    public init(pool examples: [LLMTeacherSpec.FewShotExample], count: Int) {
        var seen = Set<String>(), pool: [LLMTeacherSpec.FewShotExample] = [], keys: [[String]] = []
        for e in examples {
            let key = LabelingJob.templateKey(e.text)
            guard seen.insert(key).inserted else { continue }
            pool.append(e)
            keys.append(Self.words(key))
        }
        var df: [String: Int] = [:]
        for k in keys { for w in Set(k) { df[w, default: 0] += 1 } }
        let n = Float(max(1, pool.count))
        var idf: [String: Float] = [:], index: [String: Int] = [:]
        for (w, d) in df.sorted(by: { $0.key < $1.key }) {
            idf[w] = log((1 + n) / Float(1 + d)) + 1
            index[w] = index.count
        }
        self.pool = pool
        self.count = count
        self.idf = idf
        self.index = index
        vectors = keys.map { Self.vector(Set($0), idf: idf, index: index) }
    }

    /// Lowercased runs of 2+ ASCII letters of a masked key, placeholders (`<NUM>`, `<IP>`) skipped.
    public static func words(_ key: String) -> [String] {
        var out: [String] = [], current = "", inPlaceholder = false
        func flush() { if current.count >= 2 { out.append(current) }; current = "" }
        for c in key.unicodeScalars {
            if c == "<" { flush(); inPlaceholder = true; continue }
            if c == ">" { current = ""; inPlaceholder = false; continue }
            if inPlaceholder { continue }
            if (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") { current.unicodeScalars.append(c) } else { flush() }
        }
        flush()
        return out.map { $0.lowercased() }
    }

    private static func vector(_ words: Set<String>, idf: [String: Float], index: [String: Int]) -> [Int: Float] {
        var v: [Int: Float] = [:], norm: Float = 0
        for w in words { if let id = index[w], let weight = idf[w] { v[id] = weight; norm += weight * weight } }
        guard norm > 0 else { return [:] }
        let scale = 1 / norm.squareRoot()
        return v.mapValues { $0 * scale }
    }

    /// The `count` pool lines most similar to `text` (fewer if the pool is smaller), least similar first.
    public func examples(for text: String) -> [LLMTeacherSpec.FewShotExample] {
        guard count > 0, !pool.isEmpty else { return [] }
        let q = Self.vector(Set(Self.words(LabelingJob.templateKey(text))), idf: idf, index: index)
        var scored: [(score: Float, i: Int)] = vectors.enumerated().map { i, v in
            var s: Float = 0
            for (id, w) in q { if let x = v[id] { s += w * x } }
            return (s, i)
        }
        scored.sort { $0.score != $1.score ? $0.score > $1.score : $0.i < $1.i }
        return scored.prefix(count).reversed().map { pool[$0.i] }
    }

    /// What shapes the choice, for the prompt version: the pool and the count.
    public var fingerprint: String {
        String(fingerprintOf(["nearest", "\(count)"] + pool.flatMap { [$0.text, $0.label] }), radix: 16)
    }
}
