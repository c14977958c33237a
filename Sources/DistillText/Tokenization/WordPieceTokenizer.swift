import Foundation

/// A BERT tokenizer compatible with Hugging Face `BertTokenizer` / `tokenizers` (`BertNormalizer`,
/// `BertPreTokenizer`, `WordPiece`, `[CLS] … [SEP]` template): same tokens, same ids.
public struct WordPieceTokenizer: Sendable {
    public let vocabulary: Vocabulary
    public var normalizer: BertNormalizer
    /// The token for words that cannot be split into pieces (its id must exist).
    public var unknownToken = "[UNK]" {
        didSet { if let id = vocabulary.id(unknownToken) { unkID = id } }
    }
    public var continuingSubwordPrefix = "##"
    /// Words longer than this (in Unicode scalars) become the unknown token.
    public var maxInputCharsPerWord = 100
    /// Default truncation length including [CLS] and [SEP].
    public var modelMaxLength = 512
    /// Tokens matched verbatim in the raw text before normalization (`[CLS]`, `[MASK]`, …), as Hugging Face's
    /// added/special tokens are: text "[SEP]" becomes the [SEP] id, not `[`, `sep`, `]`.
    public var addedTokens: [String] = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] {
        didSet { addedTokenBytes = Self.sortedBytes(addedTokens, vocabulary) }
    }
    /// Added tokens present in the vocabulary as (UTF-8 bytes, id), longest first.
    private var addedTokenBytes: [([UInt8], Int)] = []

    private static func sortedBytes(_ tokens: [String], _ vocabulary: Vocabulary) -> [([UInt8], Int)] {
        tokens.compactMap { t in vocabulary.id(t).map { (Array(t.utf8), $0) } }.sorted { $0.0.count > $1.0.count }
    }

    public let clsID: Int, sepID: Int, padID: Int
    public private(set) var unkID: Int

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
        addedTokenBytes = Self.sortedBytes(addedTokens, vocabulary)
    }

    /// WordPiece tokens of `text` (no special tokens).
    public func tokenize(_ text: String) -> [String] { wordPieceIDs(text).map { vocabulary.tokens[$0] } }

    /// WordPiece ids of `text` (no special tokens); stops once `limit` ids exist, so a 1 MB line costs only
    /// the part that survives truncation.
    public func wordPieceIDs(_ text: String, limit: Int = .max) -> [Int] {
        var ids: [Int] = []
        let bytes = Array(text.utf8)
        var segmentStart = 0, i = 0
        // One pass over the UTF-8 bytes: an added token splits the text where it starts (longest first),
        // matched byte for byte before any normalization, as Hugging Face does.
        while i < bytes.count && ids.count < limit {
            var matched: ([UInt8], Int)?
            for candidate in addedTokenBytes where candidate.0.count <= bytes.count - i {
                if bytes[i] == candidate.0[0] && bytes[i..<(i + candidate.0.count)].elementsEqual(candidate.0) { matched = candidate; break }
            }
            guard let (token, id) = matched else { i += 1; continue }
            appendNormalizedWords(bytes[segmentStart..<i], to: &ids, limit: limit)
            if ids.count < limit { ids.append(id) }
            i += token.count
            segmentStart = i
        }
        if segmentStart < bytes.count && ids.count < limit { appendNormalizedWords(bytes[segmentStart...], to: &ids, limit: limit) }
        if ids.count > limit { ids.removeLast(ids.count - limit) }
        return ids
    }

    private func appendNormalizedWords(_ utf8: ArraySlice<UInt8>, to ids: inout [Int], limit: Int) {
        guard !utf8.isEmpty else { return }
        // Segments are cut at ASCII bytes of added tokens, so they are valid UTF-8.
        let text = String(decoding: utf8, as: UTF8.self)
        for word in normalizer.preTokenize(normalizer.normalize(text)) {
            if ids.count >= limit { return }
            appendWordPieces(word, to: &ids)
        }
    }

    /// `[CLS] pieces [SEP]`, truncated to `maxLength` (default ``modelMaxLength``) including both.
    public func encode(_ text: String, maxLength: Int? = nil) -> [Int] {
        let limit = max(2, maxLength ?? modelMaxLength)
        return [clsID] + wordPieceIDs(text, limit: limit - 2) + [sepID]
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
        if case let .fixed(n) = padding {
            precondition(n >= 2, "encodeBatch: a fixed padding length must hold [CLS] and [SEP] (>= 2), got \(n)")
            limit = min(limit, n)
        }
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

    /// Greedy longest-match-first WordPiece of one pre-tokenized word, comparing UTF-8 bytes.
    private func appendWordPieces(_ word: Substring.UnicodeScalarView, to ids: inout [Int]) {
        let scalars = Array(word)
        if scalars.count > maxInputCharsPerWord { ids.append(unkID); return }
        // Byte offset of each scalar boundary, so candidates are byte slices.
        let utf8 = Array(String(String.UnicodeScalarView(scalars)).utf8)
        var offsets = [0]
        offsets.reserveCapacity(scalars.count + 1)
        for s in scalars { offsets.append(offsets.last! + UTF8.width(s)) }
        let prefix = Array(continuingSubwordPrefix.utf8)
        var pieces: [Int] = []
        var start = 0
        while start < scalars.count {
            var end = scalars.count
            var found: Int?
            while start < end {
                let piece = Array(utf8[offsets[start]..<offsets[end]])
                if let id = vocabulary.id(utf8: start > 0 ? prefix + piece : piece) { found = id; break }
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
        do { data = try Data(contentsOf: url) } catch { throw TokenizerError.cannotRead(path: url.path, reason: fileErrorReason(error)) }
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
        if root["normalizer"] is NSNull {
            normalizer = BertNormalizer(cleanText: false, handleChineseChars: false, stripAccents: false, lowercase: false)
        } else if let n = root["normalizer"] as? [String: Any] {
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
