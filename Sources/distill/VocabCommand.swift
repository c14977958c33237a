import ArgumentParser
import DistillExamples
import DistillRuntime
import DistillText
import Foundation

/// `distill vocab`: a WordPiece vocabulary for a student, learned from a corpus.
struct VocabCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vocab",
        abstract: "Build a WordPiece vocabulary (vocab.txt) of a given size from a text corpus, one text per line."
    )

    @Option(help: "Corpus file, or - for standard input.")
    var input: String = "-"

    @Option(help: "Vocabulary size, special tokens included.")
    var size: Int = 8000

    @Option(name: .customLong("min-frequency"), help: "Stop merging when the best pair occurs fewer times.")
    var minFrequency: Int = 2

    @Flag(name: .customLong("cased"), help: "Keep case and accents (default: lowercase, as uncased BERT).")
    var cased = false

    @Option(help: "Output vocab.txt path.")
    var out: String

    func validate() throws {
        guard size >= 10 else { throw ValidationError("--size must be at least 10") }
        guard minFrequency >= 1 else { throw ValidationError("--min-frequency must be at least 1") }
    }

    func run() throws {
        let trainer = WordPieceTrainer(vocabularySize: size, minimumFrequency: minFrequency,
                                       normalizer: BertNormalizer(lowercase: !cased))
        let reader = try LineReader(path: input)
        var counts: [String: Int] = [:]
        var lines = 0, skipped = 0
        while let line = try reader.next() {
            guard let text = line.text else {
                skipped += 1
                FileHandle.standardError.write(Data("\(reader.name):\(line.number): \(line.problem?.message ?? "unreadable"); line skipped\n".utf8))
                continue
            }
            for (word, n) in trainer.countWords(CollectionOfOne(text)) { counts[word, default: 0] += n }
            lines += 1
        }
        let vocabulary = trainer.train(wordCounts: counts)
        try vocabulary.write(vocabTxt: URL(fileURLWithPath: out))
        print("vocab: \(vocabulary.count) tokens from \(lines) lines (\(counts.count) distinct words, \(skipped) skipped) -> \(out)")
        if vocabulary.count > size {
            FileHandle.standardError.write(Data("vocab: the corpus has \(vocabulary.count - 5) distinct characters, more than --size \(size) allows; every character is kept so no text becomes [UNK]\n".utf8))
        }
        if skipped > 0 { throw ExitCode(2) }
    }
}
