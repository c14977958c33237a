import DistillText
import Testing

@Suite("WordPiece vocabulary builder")
struct WordPieceTrainerTests {
    let corpus = [
        "connection refused to database", "connection reset by peer", "database connection timeout",
        "disk full on /dev/sda1", "disk usage 97%", "connection refused", "refused connection from 10.0.0.1",
    ]

    @Test("builds the requested size with special tokens first, and its tokenizer round-trips the corpus")
    func buildsVocabulary() throws {
        let vocab = WordPieceTrainer(vocabularySize: 60, minimumFrequency: 1).train(corpus)
        #expect(vocab.count == 60)
        #expect(Array(vocab.tokens.prefix(5)) == ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
        #expect(vocab.id("connection") != nil)  // the most frequent word is merged whole
        #expect(vocab.id("##n") != nil && vocab.id("c") != nil)
        let tokenizer = try WordPieceTokenizer(vocabulary: vocab)
        for text in corpus {
            let pieces = tokenizer.tokenize(text)
            #expect(!pieces.contains("[UNK]"), "\(text): \(pieces)")
            let rebuilt = pieces.reduce("") { $0 + ($1.hasPrefix("##") ? String($1.dropFirst(2)) : " " + $1) }
            #expect(rebuilt.split(separator: " ").joined() == text.lowercased().split(separator: " ").joined())
        }
    }

    @Test("deterministic, and stops when pairs get rarer than the minimum frequency")
    func deterministic() {
        let a = WordPieceTrainer(vocabularySize: 500, minimumFrequency: 2).train(corpus)
        let b = WordPieceTrainer(vocabularySize: 500, minimumFrequency: 2).train(corpus.reversed())
        #expect(a == b)
        #expect(a.count < 500)
        #expect(a.id("connection") != nil && a.id("refused") != nil)
    }
}
