import Foundation

/// The words the LLM answers with, one per label, chosen so that the first answer token tells the labels apart,
/// and the mapping from first-token alternatives (`top_logprobs`) back to labels.
public struct Verbalizer: Sendable, Equatable {
    /// `words[i]` stands for label `i`.
    public let words: [String]
    /// True when `words` are short codes (A, B, …) rather than the label names.
    public let usesCodes: Bool

    /// Label names as words (lowercased), or letter codes when `codes` is set.
    public init(labels: [String], codes: Bool) {
        usesCodes = codes
        words = codes ? labels.indices.map(Verbalizer.code) : labels.map { $0.lowercased() }
    }

    /// "A" … "Z", then "AA", "AB", …
    static func code(_ i: Int) -> String {
        let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        return i < 26 ? String(letters[i]) : String(letters[i / 26 - 1]) + String(letters[i % 26])
    }

    /// Whether label names can serve as answers, judged from their text alone: non-empty, distinct, and no name
    /// (lowercased) a prefix of another or sharing its first word piece of up to 3 characters with another.
    /// Conservative: when it says no, letter codes are used.
    public static func namesLookDistinct(_ labels: [String]) -> Bool {
        let words = labels.map { $0.lowercased() }
        guard words.allSatisfy({ !$0.isEmpty }), Set(words).count == words.count else { return false }
        for (i, a) in words.enumerated() {
            for b in words[(i + 1)...] where a.hasPrefix(b) || b.hasPrefix(a) || a.prefix(3) == b.prefix(3) { return false }
        }
        return true
    }

    /// Whether the first tokens (as the server's tokenizer cuts each name) tell the names apart: distinct, and
    /// each the whole word or at least ``minimumPrefix`` characters long (shorter pieces are not matched).
    public static func firstTokensDistinct(_ firstTokens: [String], words: [String]) -> Bool {
        let cleaned = firstTokens.map { Verbalizer.clean($0) }
        let long = zip(cleaned, words).allSatisfy { piece, word in piece == word.lowercased() || piece.count >= minimumPrefix }
        return long && cleaned.allSatisfy { !$0.isEmpty } && Set(cleaned).count == cleaned.count
    }

    /// A token shorter than this stands for a label only if it is the label's whole word: single letters and
    /// short words ("A", "No", "D") are too often the start of prose ("A connection…", "No …").
    public static let minimumPrefix = 3

    /// Lowercased, with surrounding whitespace, quotes and markup removed (`" Database"` → `database`).
    static func clean(_ token: String) -> String {
        let junk = CharacterSet.whitespacesAndNewlines.union(CharacterSet(charactersIn: "\"'`*{}[]:,.()<>#-_▁Ġ"))
        return token.trimmingCharacters(in: junk).lowercased()
    }

    /// The label a piece of answer text stands for: the label whose word it is a non-empty prefix of, when exactly
    /// one is (an exact match wins). nil when it fits none or is ambiguous.
    public func label(forToken token: String) -> Int? {
        let t = Verbalizer.clean(token)
        guard !t.isEmpty else { return nil }
        if let exact = words.firstIndex(where: { $0.lowercased() == t }) { return exact }
        guard t.count >= Verbalizer.minimumPrefix else { return nil }
        let matches = words.indices.filter { words[$0].lowercased().hasPrefix(t) }
        return matches.count == 1 ? matches[0] : nil
    }

    /// The label a whole answer names: an exact word, or the only word the answer starts with.
    public func label(forAnswer answer: String) -> Int? {
        let t = Verbalizer.clean(answer)
        guard !t.isEmpty else { return nil }
        if let exact = words.firstIndex(where: { $0.lowercased() == t }) { return exact }
        let starts = words.indices.filter { t.hasPrefix(words[$0].lowercased()) }
        if starts.count == 1 { return starts[0] }
        return label(forToken: t)
    }

    /// A distribution over the labels from one answer position's alternatives `(token, logprob)`: each token's
    /// probability goes to the label it stands for; what fits no label (or several) is the outside mass, as is the
    /// mass below the listed alternatives. nil when no alternative stands for a label.
    public func distribution(alternatives: [(token: String, logprob: Double)]) -> (probabilities: [Float], outsideMass: Float)? {
        var mass = [Double](repeating: 0, count: words.count)
        // Distinct tokens may read the same ("data" with and without a leading space): their masses add up.
        for (token, logprob) in alternatives where logprob.isFinite && logprob <= 0 {
            if let i = label(forToken: token) { mass[i] += exp(logprob) }
        }
        let total = mass.reduce(0, +)
        guard total > 0 else { return nil }
        return (mass.map { Float($0 / total) }, Float(max(0, min(1, 1 - total))))
    }
}
