/// Hashed word and character n-gram features, fastText style: the input of the n-gram bag student.
///
/// Text is normalized and split like BERT's pre-tokenizer (lowercase, punctuation isolated). Features are
/// word n-grams for n in 1...`maxWordNGram` and character n-grams of each `<word>` (with boundary markers)
/// for n in `minCharNGram`...`maxCharNGram`, each hashed (FNV-1a 64 over UTF-8, with a kind prefix) into
/// `buckets` rows.
public struct NGramFeaturizer: Sendable, Equatable, Codable {
    public var buckets: Int
    public var maxWordNGram: Int
    /// 0 disables character n-grams.
    public var minCharNGram: Int
    public var maxCharNGram: Int
    public var lowercase: Bool

    public init(buckets: Int = 1 << 18, maxWordNGram: Int = 2, minCharNGram: Int = 3, maxCharNGram: Int = 5, lowercase: Bool = true) {
        precondition(buckets > 0 && maxWordNGram >= 1 && minCharNGram >= 0 && maxCharNGram >= minCharNGram,
                     "NGramFeaturizer: invalid sizes (buckets \(buckets), words 1...\(maxWordNGram), chars \(minCharNGram)...\(maxCharNGram))")
        self.buckets = buckets
        self.maxWordNGram = maxWordNGram
        self.minCharNGram = minCharNGram
        self.maxCharNGram = maxCharNGram
        self.lowercase = lowercase
    }

    enum CodingKeys: String, CodingKey {
        case buckets, maxWordNGram = "word_ngrams", minCharNGram = "min_char_ngram", maxCharNGram = "max_char_ngram", lowercase
    }

    /// Words beyond this many are ignored (a 1 MB line costs no more than its first words).
    public static let maximumWords = 4096

    /// Bucket ids of every feature of `text` (possibly repeated; empty for empty text).
    public func features(_ text: String) -> [Int] {
        var out: [Int] = []
        var scratch = Scratch()
        forEachFeature(text, scratch: &scratch) { out.append($0) }
        return out
    }

    /// The features of one word (a single token after normalization and punctuation splitting): its unigram
    /// bucket and the buckets of its character n-grams. nil when `word` is not exactly one word.
    public func wordFeatures(_ word: String) -> (unigram: Int, characters: [Int])? {
        let normalizer = BertNormalizer(lowercase: lowercase)
        guard normalizer.preTokenize(normalizer.normalize(word)).count == 1 else { return nil }
        let all = features(word)
        guard let first = all.first else { return nil }
        return (first, Array(all.dropFirst()))
    }

    /// Reusable buffers of ``forEachFeature(_:scratch:_:)``: one per thread, kept between calls.
    public struct Scratch {
        var normalized: [UInt8] = []
        var words: [Range<Int>] = []
        var chars: [UInt8] = []
        public init() {}
    }

    /// Calls `body` with the bucket id of every feature of `text`, in ``features(_:)``'s order, without
    /// building the list (the inference path sums embedding rows as they come).
    @inline(__always)
    public func forEachFeature(_ text: String, scratch: inout Scratch, _ body: (Int) -> Void) {
        // Log lines are nearly always ASCII: then the same features come from a byte scan (no Unicode
        // normalization, no per-word strings). The result is identical to the general path (tested).
        var text = text
        let done = text.withUTF8 { bytes -> Bool in
            guard bytes.allSatisfy({ $0 < 0x80 }) else { return false }
            asciiFeatures(bytes, scratch: &scratch, body)
            return true
        }
        if !done { for id in unicodeFeatures(text) { body(id) } }
    }

    /// ``features(_:)`` for ASCII text: BERT's clean-up (controls dropped, whitespace splits), lowercasing and
    /// punctuation splitting done on bytes.
    @inline(__always)
    private func asciiFeatures(_ bytes: UnsafeBufferPointer<UInt8>, scratch: inout Scratch, _ body: (Int) -> Void) {
        scratch.normalized.removeAll(keepingCapacity: true)
        scratch.words.removeAll(keepingCapacity: true)
        var wordStart = 0
        func close(_ s: inout Scratch) {
            if wordStart < s.normalized.count && s.words.count < Self.maximumWords { s.words.append(wordStart..<s.normalized.count) }
            wordStart = s.normalized.count
        }
        for b in bytes {
            switch b {
            case 9, 10, 13, 32: close(&scratch)
            case 0..<32, 127: continue
            case 33...47, 58...64, 91...96, 123...126:
                close(&scratch)
                scratch.normalized.append(b)
                close(&scratch)
            case 65...90: scratch.normalized.append(lowercase ? b + 32 : b)
            default: scratch.normalized.append(b)
            }
        }
        close(&scratch)
        let m = UInt64(buckets)
        wordNGrams(scratch.normalized, scratch.words, body)
        guard minCharNGram > 0 else { return }
        for word in scratch.words {
            scratch.chars.removeAll(keepingCapacity: true)
            scratch.chars.append(60)
            scratch.chars.append(contentsOf: scratch.normalized[word])
            scratch.chars.append(62)
            let count = scratch.chars.count
            guard count >= minCharNGram else { continue }
            scratch.chars.withUnsafeBufferPointer { chars in
                for n in minCharNGram...maxCharNGram where n <= count {
                    for start in 0...(count - n) {
                        var h = fnv(fnvOffset, UInt8(ascii: "c"))
                        for k in start..<(start + n) { h = fnv(h, chars[k]) }
                        body(Int(h % m))
                    }
                }
            }
        }
    }

    /// Word n-grams (n = 1...`maxWordNGram`) of the normalized words `bytes[words[i]]`: FNV-1a over "w", n and
    /// the words joined by spaces.
    @inline(__always)
    private func wordNGrams(_ bytes: [UInt8], _ words: [Range<Int>], _ body: (Int) -> Void) {
        for n in 1...maxWordNGram where words.count >= n {
            for start in 0...(words.count - n) {
                var h = fnvOffset
                h = fnv(h, UInt8(ascii: "w")); h = fnv(h, UInt8(n))
                for k in start..<(start + n) {
                    if k > start { h = fnv(h, 0x20) }
                    for i in words[k] { h = fnv(h, bytes[i]) }
                }
                body(Int(h % UInt64(buckets)))
            }
        }
    }

    /// ``features(_:)`` for any text (the reference the ASCII path is tested against).
    public func unicodeFeatures(_ text: String) -> [Int] {
        let normalizer = BertNormalizer(lowercase: lowercase)
        let words = normalizer.preTokenize(normalizer.normalize(text)).prefix(Self.maximumWords).map { Array(String($0).utf8) }
        var out: [Int] = []
        out.reserveCapacity(words.count * 8)
        var joined: [UInt8] = [], ranges: [Range<Int>] = []
        for w in words { ranges.append(joined.count..<(joined.count + w.count)); joined += w }
        wordNGrams(joined, ranges) { out.append($0) }
        if minCharNGram > 0 {
            for word in words {
                let chars = ["<"] + String(decoding: word, as: UTF8.self).unicodeScalars.map { String($0) } + [">"]
                guard chars.count >= minCharNGram else { continue }
                for n in minCharNGram...maxCharNGram where n <= chars.count {
                    for start in 0...(chars.count - n) {
                        var h = fnvOffset
                        h = fnv(h, UInt8(ascii: "c"))
                        for k in start..<(start + n) { for byte in chars[k].utf8 { h = fnv(h, byte) } }
                        out.append(Int(h % UInt64(buckets)))
                    }
                }
            }
        }
        return out
    }

    /// Features of a batch laid out for ``embeddingBagMean``-style lookup: all ids, and each text's start.
    public func batch(_ texts: [String]) -> (indices: [Int], offsets: [Int]) {
        var indices: [Int] = [], offsets: [Int] = []
        for t in texts {
            offsets.append(indices.count)
            indices += features(t)
        }
        return (indices, offsets)
    }
}

private let fnvOffset: UInt64 = 0xCBF2_9CE4_8422_2325
@inline(__always) private func fnv(_ h: UInt64, _ byte: UInt8) -> UInt64 { (h ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
