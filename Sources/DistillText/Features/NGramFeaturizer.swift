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
        let normalizer = BertNormalizer(lowercase: lowercase)
        let words = normalizer.preTokenize(normalizer.normalize(text)).prefix(Self.maximumWords).map { Array(String($0).utf8) }
        var out: [Int] = []
        out.reserveCapacity(words.count * 8)
        for n in 1...maxWordNGram where words.count >= n {
            for start in 0...(words.count - n) {
                var h = fnvOffset
                h = fnv(h, UInt8(ascii: "w")); h = fnv(h, UInt8(n))
                for k in start..<(start + n) {
                    if k > start { h = fnv(h, 0x20) }
                    for byte in words[k] { h = fnv(h, byte) }
                }
                out.append(Int(h % UInt64(buckets)))
            }
        }
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
