import DistillCore
import DistillNN
import DistillRuntime
import DistillText
import Foundation

/// How a student's token or n-gram embeddings start (recipe `student.embeddings_from`).
public enum StudentEmbeddingInitialization: Sendable, Equatable {
    /// Random rows from the training seed.
    case random
    /// The static embeddings (``StaticEmbeddings``) of the named `kind: bert` teacher.
    case teacherStatic(teacher: String)

    /// The default: random.
    public static let standard = StudentEmbeddingInitialization.random

    /// Most distinct words of the training texts given to an n-gram bag (the most frequent first).
    public static let maximumTextWords = 50_000

    /// Overwrites the student's embedding rows from the static embeddings of `teacher` (its encoder and
    /// tokenizer), rescaled to the spread of the student's random initialization so the rest of the model sees
    /// inputs of the size it expects. A BERT student gets the vector of each of its vocabulary's tokens (special
    /// tokens keep their random rows). An n-gram bag gets, for every word of the teacher's vocabulary and of
    /// `texts`, the word's vector in its unigram bucket and the mean of the vectors of the words holding each
    /// character n-gram in that n-gram's bucket: a word no labelled line has still lands near the teacher's idea
    /// of it, through its own bucket or through its pieces. Word-bigram buckets keep their random rows. Returns
    /// a one-line summary for the run log.
    @discardableResult
    public static func apply(to student: Student, teacher: BertModel, tokenizer: WordPieceTokenizer, texts: [String]) throws -> String {
        switch student.model {
        case let bert as BertClassifier:
            let (model, studentTokenizer) = (bert.model, bert.tokenizer)
            let tokens = studentTokenizer.vocabulary.tokens
            let special = Set(studentTokenizer.addedTokens)
            let rows = tokens.indices.filter { !special.contains(tokens[$0]) && !isPlaceholderToken(tokens[$0]) }
            let hidden = model.config.hiddenSize
            let table = try StaticEmbeddings(teacher: teacher, tokenizer: tokenizer, entries: rows.map { tokens[$0] }, width: hidden)
            let weight = model.bert.embeddings.wordEmbeddings.weight
            let scale = rescale(table.vectors, toStd: model.config.initializerRange)
            weight.withUnsafeMutableBufferPointer { w in
                for (i, row) in rows.enumerated() {
                    for c in 0..<hidden { w[row * hidden + c] = table.vectors[i * hidden + c] * scale }
                }
            }
            return String(format: "student: %d of %d token embeddings from the teacher's static embeddings (PCA %d -> %d keeps %.1f%% of the variance)",
                          rows.count, tokens.count, teacher.config.hiddenSize, hidden, 100 * table.explainedVariance)
        case let bag as NGramBag:
            let featurizer = bag.config.featurizer
            let words = bagWords(teacherVocabulary: tokenizer.vocabulary.tokens, texts: texts, lowercase: featurizer.lowercase)
            let width = bag.config.embeddingSize
            let table = try StaticEmbeddings(teacher: teacher, tokenizer: tokenizer, entries: words, width: width)
            let scale = rescale(table.vectors, toStd: bag.initialEmbeddingStd)
            // Unigram buckets: the word's vector; character n-gram buckets: the mean over the words holding them.
            var unigram: [Int: (sum: [Float], count: Int)] = [:], characters: [Int: (sum: [Float], count: Int)] = [:]
            func add(_ i: Int, to bucket: Int, in sums: inout [Int: (sum: [Float], count: Int)]) {
                var entry = sums[bucket] ?? ([Float](repeating: 0, count: width), 0)
                for (c, v) in table.vector(i).enumerated() { entry.sum[c] += v }
                entry.count += 1
                sums[bucket] = entry
            }
            for (i, word) in words.enumerated() {
                guard let f = featurizer.wordFeatures(word) else { continue }
                add(i, to: f.unigram, in: &unigram)
                for bucket in Set(f.characters) { add(i, to: bucket, in: &characters) }
            }
            let weight = bag.embeddings.weight
            var written = Set<Int>()
            weight.withUnsafeMutableBufferPointer { w in
                // Character n-grams first, so that a unigram sharing a bucket with one wins it.
                for source in [characters, unigram] {
                    for (bucket, entry) in source.sorted(by: { $0.key < $1.key }) {
                        for c in 0..<width { w[bucket * width + c] = entry.sum[c] / Float(entry.count) * scale }
                        written.insert(bucket)
                    }
                }
            }
            return String(format: "student: %d of %d n-gram buckets from the teacher's static embeddings of %d words (PCA %d -> %d keeps %.1f%% of the variance)",
                          written.count, featurizer.buckets, words.count, teacher.config.hiddenSize, width, 100 * table.explainedVariance)
        default:
            throw DistillError.invalidData(file: "recipe", line: 0,
                                           detail: "student.embeddings_from is for bert and ngram-bag students, not \(type(of: student.model).kind)")
        }
    }

    /// The words an n-gram bag is initialized for: the teacher's whole-word tokens (no `##` pieces, no `[...]`
    /// specials) and the distinct words of `texts` (split as the featurizer splits them), most frequent first, at
    /// most ``maximumTextWords`` of them; each once, in a fixed order.
    public static func bagWords(teacherVocabulary: [String], texts: [String], lowercase: Bool) -> [String] {
        var seen = Set<String>(), words: [String] = []
        for token in teacherVocabulary where !token.hasPrefix("##") && !isPlaceholderToken(token) && !token.isEmpty {
            if seen.insert(token).inserted { words.append(token) }
        }
        let normalizer = BertNormalizer(lowercase: lowercase)
        var counts: [String: Int] = [:]
        for text in texts {
            for word in normalizer.preTokenize(normalizer.normalize(text)).prefix(NGramFeaturizer.maximumWords) {
                counts[String(String.UnicodeScalarView(word)), default: 0] += 1
            }
        }
        let frequent = counts.filter { !seen.contains($0.key) }.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        words += frequent.prefix(maximumTextWords).map(\.key)
        return words
    }

    /// `[unused12]`, `[CLS]` and the like.
    static func isPlaceholderToken(_ token: String) -> Bool { token.hasPrefix("[") && token.hasSuffix("]") && token.count > 2 }

    /// The factor that gives `values` the root mean square `std` (1 for all-zero values).
    static func rescale(_ values: [Float], toStd std: Float) -> Float {
        guard !values.isEmpty else { return 1 }
        let meanSquare = values.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(values.count)
        return meanSquare > 0 ? std / Float(meanSquare.squareRoot()) : 1
    }
}
