import DistillCore
import DistillExamples
import DistillNN
import DistillRecipes
import DistillTeachers
import DistillTestSupport
import DistillText
import DistillTraining
import Foundation
import Testing

/// Static embeddings of a teacher (model2vec's method) and the students initialized from them.
@Suite("Static embeddings and student initialization from a teacher")
struct StaticEmbeddingsTests {
    struct Reference: Decodable {
        struct Case: Decodable { let entry: String; let ids: [Int]; let vector: [Double] }
        let components: Int
        let cases: [Case]
        let scores: [[Double]]
        let explained_variance_ratio: [Double]
    }

    static func reference() throws -> Reference {
        let url = projectRoot.appendingPathComponent(".cache/fixtures/static_embeddings_reference.json")
        return try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
    }

    @Test("PCA matches numpy's eigh on the reference vectors: scores, signs and explained variance")
    func pca() throws {
        let r = try Self.reference()
        let columns = r.cases[0].vector.count
        let pca = try PrincipalComponents(r.cases.flatMap { $0.vector.map(Float.init) }, rows: r.cases.count, columns: columns, components: r.components)
        #expect(pca.components == 8 && pca.scores.count == 40 * 8)
        let largest = r.scores.joined().map(abs).max()!
        var worst = 0.0
        for (i, row) in r.scores.enumerated() { for (c, v) in row.enumerated() { worst = max(worst, abs(Double(pca.scores[i * 8 + c]) - v)) } }
        #expect(worst <= 1e-4 * largest, "largest score difference \(worst) of \(largest)")
        for (a, b) in zip(pca.explainedVarianceRatio, r.explained_variance_ratio) { #expect(abs(a - b) < 1e-6) }
        // Bad shapes are errors, not traps; too few rows give zeros.
        #expect(throws: PrincipalComponentsError.self) { try PrincipalComponents([1, 2, 3], rows: 2, columns: 2, components: 1) }
        let one = try PrincipalComponents([1, 2, 3], rows: 1, columns: 3, components: 2)
        #expect(one.scores == [0, 0])
        let nonFinite = try PrincipalComponents([.nan, 1, .infinity, 2, 0, 3], rows: 3, columns: 2, components: 1)
        #expect(nonFinite.scores.allSatisfy { $0.isFinite })
    }

    @Test("all-MiniLM-L6-v2's static vectors match scripts/static_embeddings_reference.py (float64 numpy), before and after PCA")
    func parity() throws {
        let r = try Self.reference()
        let teacher = try BertModel.load(folder: miniLM)
        let tokenizer = try WordPieceTokenizer.load(folder: miniLM)
        let entries = r.cases.map(\.entry)
        for c in r.cases { #expect(StaticEmbeddings.sequence(for: c.entry, tokenizer: tokenizer) == c.ids, "\(c.entry)") }
        let raw = StaticEmbeddings.teacherVectors(teacher: teacher, tokenizer: tokenizer, entries: entries)
        let hidden = teacher.config.hiddenSize
        var worst = 0.0
        for (i, c) in r.cases.enumerated() { for (j, v) in c.vector.enumerated() { worst = max(worst, abs(Double(raw[i * hidden + j]) - v)) } }
        #expect(worst < 1e-4, "largest difference \(worst)")
        let table = try StaticEmbeddings(teacher: teacher, tokenizer: tokenizer, entries: entries, width: 8)
        let largest = r.scores.joined().map(abs).max()!
        var worstScore = 0.0
        for (i, row) in r.scores.enumerated() { for (c, v) in row.enumerated() { worstScore = max(worstScore, abs(Double(table.vectors[i * 8 + c]) - v)) } }
        #expect(worstScore <= 1e-3 * largest, "largest score difference \(worstScore) of \(largest)")
        // A width beyond the teacher's keeps every component and pads with zeros.
        let wide = try StaticEmbeddings(teacher: teacher, tokenizer: tokenizer, entries: Array(entries.prefix(5)), width: 400)
        #expect(wide.vectors.count == 5 * 400 && wide.vector(2).suffix(16).allSatisfy { $0 == 0 })
    }

    /// A small random BERT teacher with its own vocabulary (fast enough for the debug build).
    static func smallTeacher() throws -> (BertModel, WordPieceTokenizer, [String]) {
        let texts = syntheticLogs(count: 200, seed: 31).map(\.0)
        let vocabulary = WordPieceTrainer(vocabularySize: 300, minimumFrequency: 1).train(texts)
        let config = BertConfig(vocabSize: vocabulary.count, hiddenSize: 24, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 32,
                                maxPositionEmbeddings: 64, labels: labelNames)
        return (BertModel(config: config, seed: 5), try WordPieceTokenizer(vocabulary: vocabulary), texts)
    }

    static func cosine(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>) -> Double {
        let dot = zip(a, b).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        return dot / (a.reduce(0.0) { $0 + Double($1 * $1) }.squareRoot() * b.reduce(0.0) { $0 + Double($1 * $1) }.squareRoot())
    }

    @Test("a BERT student gets each token's static vector, at its random initialization's spread; special tokens keep theirs")
    func bertStudent() throws {
        let (teacher, teacherTokenizer, texts) = try Self.smallTeacher()
        let vocabulary = WordPieceTrainer(vocabularySize: 150, minimumFrequency: 1).train(texts)
        let config = BertConfig(vocabSize: vocabulary.count, hiddenSize: 16, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 32,
                                maxPositionEmbeddings: 64, labels: labelNames)
        let tokenizer = try WordPieceTokenizer(vocabulary: vocabulary)
        let model = BertForSequenceClassification(config: config, seed: 3)
        let before = model.bert.embeddings.wordEmbeddings.weight.scalars
        let summary = try StudentEmbeddingInitialization.apply(to: .bert(model, tokenizer), teacher: teacher, tokenizer: teacherTokenizer, texts: texts)
        let after = model.bert.embeddings.wordEmbeddings.weight.scalars
        let h = 16
        let special = Set(tokenizer.addedTokens.compactMap { vocabulary.id($0) })
        let rows = (0..<vocabulary.count).filter { !special.contains($0) }
        #expect(summary.contains("\(rows.count) of \(vocabulary.count) token embeddings"), "\(summary)")
        for id in special { #expect(after[(id * h)..<((id + 1) * h)] == before[(id * h)..<((id + 1) * h)]) }
        let meanSquare = rows.reduce(0.0) { s, id in s + after[(id * h)..<((id + 1) * h)].reduce(0.0) { $0 + Double($1 * $1) } } / Double(rows.count * h)
        #expect(abs(meanSquare.squareRoot() - Double(config.initializerRange)) < 1e-4)
        // The rows are the static table, rescaled: the same angles between tokens.
        let table = try StaticEmbeddings(teacher: teacher, tokenizer: teacherTokenizer, entries: rows.map { vocabulary.tokens[$0] }, width: h)
        for (i, j) in [(0, 1), (3, 17), (20, 40)] {
            let a = after[(rows[i] * h)..<((rows[i] + 1) * h)], b = after[(rows[j] * h)..<((rows[j] + 1) * h)]
            #expect(abs(Self.cosine(a, b) - Self.cosine(table.vector(i), table.vector(j))) < 1e-5)
        }
        // The same teacher and student give the same rows (a resumed run rebuilds its student identically).
        let again = BertForSequenceClassification(config: config, seed: 3)
        try StudentEmbeddingInitialization.apply(to: .bert(again, tokenizer), teacher: teacher, tokenizer: teacherTokenizer, texts: texts)
        #expect(again.bert.embeddings.wordEmbeddings.weight.scalars == after)
    }

    @Test("distill train with student.embeddings_from: the bag starts from the teacher's static embeddings and trains")
    func recipeEndToEnd() throws {
        let dir = try makeProject()
        let url = dir.appendingPathComponent("recipe.yaml")
        let recipe = try String(contentsOf: url, encoding: .utf8)
        let student = "  kind: ngram-bag\n  buckets: 4096\n  embedding_size: 16\n"
        #expect(recipe.contains(student))
        try Data(recipe.replacingOccurrences(of: student, with: student + "  embeddings_from: big-bert\n").utf8).write(to: url)
        let result = try runDistill(["train", "--recipe", url.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("n-gram buckets from the teacher's static embeddings of"), "\(result.stderr)")
        let report = try JSONDecoder().decode(EvaluationReport.self, from: Data(contentsOf: dir.appendingPathComponent("run/report.json")))
        #expect(report.examples == 60 && report.accuracy > 0.5, "\(report.table())")
    }

    @Test("an n-gram bag: words of the texts and of the teacher's vocabulary land in their unigram buckets, n-grams get the mean of their words")
    func bagStudent() throws {
        let (teacher, teacherTokenizer, _) = try Self.smallTeacher()
        let texts = ["disk quota exceeded on volume data", "connection refused by upstream", "volume data mounted"]
        var featurizer = NGramFeaturizer(buckets: 1 << 16)
        featurizer.maxWordNGram = 2
        let bag = NGramBag(config: NGramBagConfig(featurizer: featurizer, embeddingSize: 8, labels: labelNames), seed: 9)
        let before = bag.embeddings.weight.scalars
        let summary = try StudentEmbeddingInitialization.apply(to: .ngramBag(bag), teacher: teacher, tokenizer: teacherTokenizer, texts: texts)
        let after = bag.embeddings.weight.scalars
        let words = StudentEmbeddingInitialization.bagWords(teacherVocabulary: teacherTokenizer.vocabulary.tokens, texts: texts, lowercase: true)
        #expect(summary.contains("of \(words.count) words"), "\(summary)")
        // Every teacher whole word once, then the texts' other words, most frequent first.
        #expect(!words.contains { $0.hasPrefix("##") || $0 == "[CLS]" } && Set(words).count == words.count)
        let textOnly = words.filter { teacherTokenizer.vocabulary.id($0) == nil }
        let counts = Dictionary(texts.flatMap { $0.split(separator: " ").map(String.init) }.map { ($0, 1) }, uniquingKeysWith: +)
        #expect(Set(textOnly) == Set(counts.keys.filter { teacherTokenizer.vocabulary.id($0) == nil }) && !textOnly.isEmpty)
        let byFrequency = textOnly.sorted { a, b in
            let ca = counts[a] ?? 0, cb = counts[b] ?? 0
            return ca != cb ? ca > cb : a < b
        }
        #expect(textOnly == byFrequency)
        let table = try StaticEmbeddings(teacher: teacher, tokenizer: teacherTokenizer, entries: words, width: 8)
        func row(_ bucket: Int) -> ArraySlice<Float> { after[(bucket * 8)..<((bucket + 1) * 8)] }
        // A word's unigram bucket points where its static vector points (unless another word shares the bucket).
        var owners: [Int: Int] = [:]
        for w in words { if let f = featurizer.wordFeatures(w) { owners[f.unigram, default: 0] += 1 } }
        var checked = 0
        for (i, w) in words.enumerated() {
            guard let f = featurizer.wordFeatures(w), owners[f.unigram] == 1, table.vector(i).contains(where: { $0 != 0 }) else { continue }
            #expect(Self.cosine(row(f.unigram), table.vector(i)) > 0.99999, "\(w)")
            checked += 1
        }
        #expect(checked > words.count / 2)
        // A word of the teacher's vocabulary no text holds still has its bucket set (not its random row).
        let unseen = try #require(words.first { w in !texts.contains { $0.contains(w) } && w.count > 3 && featurizer.wordFeatures(w) != nil })
        let u = featurizer.wordFeatures(unseen)!.unigram
        #expect(row(u) != before[(u * 8)..<((u + 1) * 8)])
        // Word bigrams keep their random rows.
        let bigram = featurizer.features("quota exceeded").filter { b in !featurizer.features("quota").contains(b) && !featurizer.features("exceeded").contains(b) }
        #expect(bigram.count == 1)
        #expect(row(bigram[0]) == before[(bigram[0] * 8)..<((bigram[0] + 1) * 8)])
        #expect(featurizer.wordFeatures("two words") == nil && featurizer.wordFeatures("") == nil)
    }
}
