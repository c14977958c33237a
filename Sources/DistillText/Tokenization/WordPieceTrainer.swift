import HeapModule

/// Builds a WordPiece vocabulary of a given size from a corpus, for a student model.
///
/// Like Hugging Face's `WordPieceTrainer`: words come from the same normalizer and pre-tokenizer the
/// tokenizer uses; the initial alphabet is every character (`c` at a word start, `##c` inside); then the most
/// frequent adjacent pair of symbols is merged repeatedly (ties broken by the merged string, so the result is
/// deterministic) until the vocabulary has `vocabularySize` entries or no pair occurs `minimumFrequency` times.
/// Pair counts are maintained incrementally with a max-heap, so each merge costs only the words it touches.
public struct WordPieceTrainer: Sendable {
    public var vocabularySize: Int
    public var minimumFrequency: Int
    public var normalizer: BertNormalizer
    public var specialTokens: [String]
    public var maxInputCharsPerWord: Int

    public init(vocabularySize: Int, minimumFrequency: Int = 2, normalizer: BertNormalizer = BertNormalizer(),
                specialTokens: [String] = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"], maxInputCharsPerWord: Int = 100) {
        self.vocabularySize = vocabularySize
        self.minimumFrequency = minimumFrequency
        self.normalizer = normalizer
        self.specialTokens = specialTokens
        self.maxInputCharsPerWord = maxInputCharsPerWord
    }

    /// Word frequencies of a corpus after normalization and pre-tokenization.
    public func countWords<S: Sequence>(_ texts: S) -> [String: Int] where S.Element == String {
        countWords(texts.map { (text: $0, count: 1) })
    }

    /// Word frequencies of texts that each stand for `count` lines.
    public func countWords(_ texts: [(text: String, count: Int)]) -> [String: Int] {
        var counts: [String: Int] = [:]
        for (text, n) in texts {
            for word in normalizer.preTokenize(normalizer.normalize(text)) where word.count <= maxInputCharsPerWord {
                counts[String(word), default: 0] += n
            }
        }
        return counts
    }

    /// Trains on `texts`.
    public func train<S: Sequence>(_ texts: S) -> Vocabulary where S.Element == String {
        train(wordCounts: countWords(texts))
    }

    /// Trains on precomputed word frequencies.
    public func train(wordCounts: [String: Int]) -> Vocabulary {
        var table = MergeTable(wordCounts: wordCounts)
        var vocabulary = specialTokens
        var inVocabulary = Set(vocabulary)
        for c in table.alphabet where inVocabulary.insert(c).inserted { vocabulary.append(c) }
        var heap = Heap(table.pairCount.map { MergeTable.Candidate(count: $0.value, merged: table.merged($0.key), pair: $0.key) })
        while vocabulary.count < vocabularySize, let best = heap.popMax() {
            guard table.pairCount[best.pair] == best.count else { continue }  // stale entry
            guard best.count >= minimumFrequency else { break }
            if inVocabulary.insert(best.merged).inserted { vocabulary.append(best.merged) }
            for p in table.merge(best.pair, into: best.merged) {
                let c = table.pairCount[p] ?? 0
                if c > 0 { heap.insert(MergeTable.Candidate(count: c, merged: table.merged(p), pair: p)) } else { table.pairCount.removeValue(forKey: p) }
            }
        }
        return Vocabulary(tokens: vocabulary)
    }
}

/// The words as sequences of symbol ids with their frequencies, and the count of every adjacent pair of symbols
/// (with the words holding it), kept up to date as pairs are merged.
private struct MergeTable {
    struct Pair: Hashable { let a: Int, b: Int }
    /// A pair and what merging it gives; the heap's order: most frequent first, ties by the merged string.
    struct Candidate: Comparable {
        let count: Int, merged: String, pair: Pair
        static func < (l: Candidate, r: Candidate) -> Bool { l.count != r.count ? l.count < r.count : l.merged > r.merged }
        static func == (l: Candidate, r: Candidate) -> Bool { l.count == r.count && l.merged == r.merged }
    }

    /// Symbol id → token string.
    var symbols: [String] = []
    var symbolID: [String: Int] = [:]
    var words: [[Int]] = []
    var frequency: [Int] = []
    var pairCount: [Pair: Int] = [:]
    var pairWords: [Pair: Set<Int>] = [:]
    /// Every character (`c` at a word start, `##c` inside), most frequent first, ties by the string.
    private(set) var alphabet: [String] = []

    /// Words in a deterministic order (sorted), each split into its characters.
    init(wordCounts: [String: Int]) {
        var alphabetCount: [String: Int] = [:]
        for (word, count) in wordCounts.sorted(by: { $0.key < $1.key }) {
            let chars = word.unicodeScalars.enumerated().map { $0.offset == 0 ? String($0.element) : "##" + String($0.element) }
            var ids: [Int] = []
            for c in chars {
                alphabetCount[c, default: 0] += count
                ids.append(intern(c))
            }
            words.append(ids)
            frequency.append(count)
        }
        alphabet = alphabetCount.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map(\.key)
        for (w, seq) in words.enumerated() where seq.count > 1 {
            for i in 0..<(seq.count - 1) {
                let p = Pair(a: seq[i], b: seq[i + 1])
                pairCount[p, default: 0] += frequency[w]
                pairWords[p, default: []].insert(w)
            }
        }
    }

    mutating func intern(_ s: String) -> Int {
        if let id = symbolID[s] { return id }
        symbolID[s] = symbols.count
        symbols.append(s)
        return symbols.count - 1
    }

    /// The token `p` merges into (`##` dropped from its right part).
    func merged(_ p: Pair) -> String {
        let right = symbols[p.b]
        return symbols[p.a] + (right.hasPrefix("##") ? String(right.dropFirst(2)) : right)
    }

    /// Replaces `pair` by the symbol `merged` in every word holding it and updates the pair counts: each word's old
    /// pairs out, its new pairs in. Returns the pairs whose counts changed.
    mutating func merge(_ pair: Pair, into merged: String) -> [Pair] {
        let newSymbol = intern(merged)
        var touched: [Pair: Int] = [:]
        for w in pairWords[pair] ?? [] {
            let seq = words[w], f = frequency[w]
            var out: [Int] = []
            out.reserveCapacity(seq.count)
            var i = 0
            while i < seq.count {
                if i + 1 < seq.count && seq[i] == pair.a && seq[i + 1] == pair.b {
                    out.append(newSymbol); i += 2
                } else {
                    out.append(seq[i]); i += 1
                }
            }
            for i in 0..<max(0, seq.count - 1) {
                let p = Pair(a: seq[i], b: seq[i + 1])
                pairCount[p, default: 0] -= f
                touched[p] = 0
                pairWords[p]?.remove(w)
            }
            for i in 0..<max(0, out.count - 1) {
                let p = Pair(a: out[i], b: out[i + 1])
                pairCount[p, default: 0] += f
                touched[p] = 0
                pairWords[p, default: []].insert(w)
            }
            words[w] = out
        }
        return Array(touched.keys)
    }
}
