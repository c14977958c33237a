import Foundation

/// A BERT tokenizer compatible with Hugging Face `BertTokenizer` / `tokenizers` (`BertNormalizer`,
/// `BertPreTokenizer`, `WordPiece`, `[CLS] … [SEP]` template): same tokens, same ids.
public struct WordPieceTokenizer: Sendable {
    public let vocabulary: Vocabulary
    public var normalizer: BertNormalizer
    public var unknownToken = "[UNK]"
    public var continuingSubwordPrefix = "##"
    /// Words longer than this (in Unicode scalars) become the unknown token.
    public var maxInputCharsPerWord = 100
    /// Default truncation length including [CLS] and [SEP].
    public var modelMaxLength = 512
    /// Tokens matched verbatim in the raw text before normalization (`[CLS]`, `[MASK]`, …), as Hugging Face's
    /// added/special tokens are: text "[SEP]" becomes the [SEP] id, not `[`, `sep`, `]`.
    public var addedTokens: [String] = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] {
        didSet { addedTokens.sort { $0.count > $1.count } }
    }

    public let clsID: Int, sepID: Int, padID: Int, unkID: Int

    public init(vocabulary: Vocabulary, normalizer: BertNormalizer = BertNormalizer(), source: String = "vocabulary") throws {
        self.vocabulary = vocabulary
        self.normalizer = normalizer
        func special(_ t: String) throws -> Int {
            guard let id = vocabulary.id(t) else { throw TokenizerError.missingSpecialToken(token: t, source: source) }
            return id
        }
        clsID = try special("[CLS]")
        sepID = try special("[SEP]")
        padID = try special("[PAD]")
        unkID = try special("[UNK]")
    }

    /// WordPiece tokens of `text` (no special tokens).
    public func tokenize(_ text: String) -> [String] { wordPieceIDs(text).map { vocabulary.tokens[$0] } }

    /// WordPiece ids of `text` (no special tokens).
    public func wordPieceIDs(_ text: String) -> [Int] {
        var ids: [Int] = []
        var rest = Substring(text)
        while !rest.isEmpty {
            // The earliest (then longest) added token in the remaining text splits it.
            var match: (range: Range<Substring.Index>, id: Int)?
            for token in addedTokens {
                guard let id = vocabulary.id(token), let r = rest.range(of: token) else { continue }
                if match == nil || r.lowerBound < match!.range.lowerBound { match = (r, id) }
            }
            guard let m = match else {
                appendNormalizedWords(String(rest), to: &ids)
                break
            }
            appendNormalizedWords(String(rest[..<m.range.lowerBound]), to: &ids)
            ids.append(m.id)
            rest = rest[m.range.upperBound...]
        }
        return ids
    }

    private func appendNormalizedWords(_ text: String, to ids: inout [Int]) {
        guard !text.isEmpty else { return }
        for word in normalizer.preTokenize(normalizer.normalize(text)) { appendWordPieces(word, to: &ids) }
    }

    /// `[CLS] pieces [SEP]`, truncated to `maxLength` (default ``modelMaxLength``) including both.
    public func encode(_ text: String, maxLength: Int? = nil) -> [Int] {
        let limit = max(2, maxLength ?? modelMaxLength)
        var pieces = wordPieceIDs(text)
        if pieces.count > limit - 2 { pieces.removeLast(pieces.count - (limit - 2)) }
        return [clsID] + pieces + [sepID]
    }

    /// Padding of a batch.
    public enum Padding: Sendable, Equatable {
        /// To the longest sequence in the batch.
        case longest
        /// To exactly this length (after truncation to it).
        case fixed(Int)
    }

    /// Encodes `texts` into one padded batch with attention mask; token type ids are 0.
    public func encodeBatch(_ texts: [String], maxLength: Int? = nil, padding: Padding = .longest) -> EncodedBatch {
        var limit = maxLength ?? modelMaxLength
        if case let .fixed(n) = padding { limit = min(limit, n) }
        let rows = texts.map { encode($0, maxLength: limit) }
        let length: Int
        switch padding {
        case .longest: length = rows.map(\.count).max() ?? 0
        case let .fixed(n): length = n
        }
        var ids: [Int] = [], mask: [Int] = []
        ids.reserveCapacity(rows.count * length)
        for r in rows {
            ids += r + Array(repeating: padID, count: length - r.count)
            mask += Array(repeating: 1, count: r.count) + Array(repeating: 0, count: length - r.count)
        }
        return EncodedBatch(inputIDs: ids, tokenTypeIDs: Array(repeating: 0, count: ids.count), attentionMask: mask,
                            batchSize: rows.count, sequenceLength: length)
    }

    /// Greedy longest-match-first WordPiece of one pre-tokenized word.
    private func appendWordPieces(_ word: Substring.UnicodeScalarView, to ids: inout [Int]) {
        let scalars = Array(word)
        if scalars.count > maxInputCharsPerWord { ids.append(unkID); return }
        var pieces: [Int] = []
        var start = 0
        while start < scalars.count {
            var end = scalars.count
            var found: Int?
            while start < end {
                var candidate = String(String.UnicodeScalarView(scalars[start..<end]))
                if start > 0 { candidate = continuingSubwordPrefix + candidate }
                if let id = vocabulary.id(candidate) { found = id; break }
                end -= 1
            }
            guard let id = found else { ids.append(unkID); return }
            pieces.append(id)
            start = end
        }
        ids += pieces
    }
}

extension WordPieceTokenizer {
    /// Loads a Hugging Face tokenizer folder: `tokenizer.json` when present (normalizer options and the
    /// WordPiece vocabulary), else `vocab.txt` with `tokenizer_config.json` options.
    public static func load(folder: URL) throws -> WordPieceTokenizer {
        let json = folder.appendingPathComponent("tokenizer.json")
        if FileManager.default.fileExists(atPath: json.path) { return try load(tokenizerJSON: json) }
        let vocab = try Vocabulary.read(vocabTxt: folder.appendingPathComponent("vocab.txt"))
        var normalizer = BertNormalizer()
        var maxLength = 512
        let configURL = folder.appendingPathComponent("tokenizer_config.json")
        if let data = try? Data(contentsOf: configURL) {
            guard let config = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw TokenizerError.invalidTokenizerJSON(path: configURL.path, key: "(root)", detail: "not a JSON object")
            }
            normalizer.lowercase = config["do_lower_case"] as? Bool ?? true
            normalizer.stripAccents = config["strip_accents"] as? Bool
            normalizer.handleChineseChars = config["tokenize_chinese_chars"] as? Bool ?? true
            if let m = config["model_max_length"] as? Int, m > 0, m < 1_000_000 { maxLength = m }
        }
        var tokenizer = try WordPieceTokenizer(vocabulary: vocab, normalizer: normalizer, source: folder.path)
        tokenizer.modelMaxLength = maxLength
        return tokenizer
    }

    /// Loads the BertNormalizer options and WordPiece vocabulary of a `tokenizer.json`.
    public static func load(tokenizerJSON url: URL) throws -> WordPieceTokenizer {
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw TokenizerError.cannotRead(path: url.path, reason: error.localizedDescription) }
        guard let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw TokenizerError.invalidTokenizerJSON(path: url.path, key: "(root)", detail: "not a JSON object")
        }
        guard let model = root["model"] as? [String: Any], (model["type"] as? String) == "WordPiece" else {
            throw TokenizerError.invalidTokenizerJSON(path: url.path, key: "model.type", detail: "only WordPiece tokenizers are supported")
        }
        guard let vocabMap = model["vocab"] as? [String: Any] else {
            throw TokenizerError.invalidTokenizerJSON(path: url.path, key: "model.vocab", detail: "missing token → id map")
        }
        var tokens = [String?](repeating: nil, count: vocabMap.count)
        for (token, value) in vocabMap {
            guard let id = value as? Int, id >= 0, id < tokens.count, tokens[id] == nil else {
                throw TokenizerError.invalidTokenizerJSON(path: url.path, key: "model.vocab.\(token)", detail: "ids must be unique and cover 0..<\(vocabMap.count)")
            }
            tokens[id] = token
        }
        var normalizer = BertNormalizer()
        if let n = root["normalizer"] as? [String: Any] {
            guard (n["type"] as? String) == "BertNormalizer" else {
                throw TokenizerError.invalidTokenizerJSON(path: url.path, key: "normalizer.type", detail: "only BertNormalizer is supported, found \(n["type"] ?? "nothing")")
            }
            normalizer.cleanText = n["clean_text"] as? Bool ?? true
            normalizer.handleChineseChars = n["handle_chinese_chars"] as? Bool ?? true
            normalizer.stripAccents = n["strip_accents"] as? Bool
            normalizer.lowercase = n["lowercase"] as? Bool ?? true
        }
        var tokenizer = try WordPieceTokenizer(vocabulary: Vocabulary(tokens: tokens.map { $0! }), normalizer: normalizer, source: url.path)
        tokenizer.unknownToken = model["unk_token"] as? String ?? "[UNK]"
        tokenizer.continuingSubwordPrefix = model["continuing_subword_prefix"] as? String ?? "##"
        tokenizer.maxInputCharsPerWord = model["max_input_chars_per_word"] as? Int ?? 100
        if let added = root["added_tokens"] as? [[String: Any]] {
            tokenizer.addedTokens = added.compactMap { $0["content"] as? String }
        }
        return tokenizer
    }
}
