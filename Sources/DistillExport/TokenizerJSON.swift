import DistillRuntime
import DistillText
import Foundation

/// A ``WordPieceTokenizer`` as Hugging Face `tokenizers`' `tokenizer.json` (BertNormalizer, BertPreTokenizer,
/// WordPiece, the `[CLS] $A [SEP]` template, truncation at `maxLength`), plus the `tokenizer_config.json` and
/// `special_tokens_map.json` `transformers` reads beside it. The vocabulary is written in id order with its exact
/// bytes (a Swift dictionary would merge canonically equivalent tokens).
enum TokenizerJSON {
    static func tokenizerJSON(_ t: WordPieceTokenizer, maxLength: Int) -> Data {
        var out = JSONLineWriter()
        out.raw("{\"version\":\"1.0\",\"truncation\":{\"direction\":\"Right\",\"max_length\":")
        out.int(maxLength)
        out.raw(",\"strategy\":\"LongestFirst\",\"stride\":0},\"padding\":null,\"added_tokens\":[")
        var first = true
        for token in t.addedTokens {
            guard let id = t.vocabulary.id(token) else { continue }
            if !first { out.raw(",") }
            first = false
            out.raw("{\"id\":")
            out.int(id)
            out.raw(",\"content\":")
            out.string(token)
            out.raw(",\"single_word\":false,\"lstrip\":false,\"rstrip\":false,\"normalized\":false,\"special\":true}")
        }
        let n = t.normalizer
        out.raw("],\"normalizer\":{\"type\":\"BertNormalizer\",\"clean_text\":")
        bool(n.cleanText, &out)
        out.raw(",\"handle_chinese_chars\":")
        bool(n.handleChineseChars, &out)
        out.raw(",\"strip_accents\":")
        if let s = n.stripAccents { bool(s, &out) } else { out.raw("null") }
        out.raw(",\"lowercase\":")
        bool(n.lowercase, &out)
        out.raw("},\"pre_tokenizer\":{\"type\":\"BertPreTokenizer\"},\"post_processor\":{\"type\":\"TemplateProcessing\",\"single\":[")
        singleTemplate(&out)
        out.raw("],\"pair\":[")
        singleTemplate(&out)  // [CLS] $A [SEP], then $B [SEP] as type 1
        out.raw(",{\"Sequence\":{\"id\":\"B\",\"type_id\":1}},")
        special("[SEP]", 1, &out)
        out.raw("],\"special_tokens\":{\"[CLS]\":{\"id\":\"[CLS]\",\"ids\":[")
        out.int(t.clsID)
        out.raw("],\"tokens\":[\"[CLS]\"]},\"[SEP]\":{\"id\":\"[SEP]\",\"ids\":[")
        out.int(t.sepID)
        out.raw("],\"tokens\":[\"[SEP]\"]}}},\"decoder\":{\"type\":\"WordPiece\",\"prefix\":")
        out.string(t.continuingSubwordPrefix)
        out.raw(",\"cleanup\":true},\"model\":{\"type\":\"WordPiece\",\"unk_token\":")
        out.string(t.unknownToken)
        out.raw(",\"continuing_subword_prefix\":")
        out.string(t.continuingSubwordPrefix)
        out.raw(",\"max_input_chars_per_word\":")
        out.int(t.maxInputCharsPerWord)
        out.raw(",\"vocab\":{")
        for (id, token) in t.vocabulary.tokens.enumerated() {
            if id > 0 { out.raw(",") }
            out.string(token)
            out.raw(":")
            out.int(id)
        }
        out.raw("}}}\n")
        return Data(out.bytes)
    }

    /// `tokenizer_config.json`: the class, the normalizer's options, the special tokens, `model_max_length`.
    static func tokenizerConfig(_ t: WordPieceTokenizer, maxLength: Int) throws -> Data {
        let object: [String: Any] = [
            "tokenizer_class": "BertTokenizer", "do_lower_case": t.normalizer.lowercase,
            "tokenize_chinese_chars": t.normalizer.handleChineseChars, "strip_accents": t.normalizer.stripAccents as Any? ?? NSNull(),
            "model_max_length": maxLength, "clean_up_tokenization_spaces": true, "padding_side": "right", "truncation_side": "right",
            "unk_token": t.unknownToken, "sep_token": "[SEP]", "pad_token": "[PAD]", "cls_token": "[CLS]", "mask_token": "[MASK]",
        ]
        return try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
    }

    /// `special_tokens_map.json`.
    static func specialTokensMap(_ t: WordPieceTokenizer) throws -> Data {
        try JSONSerialization.data(withJSONObject: ["unk_token": t.unknownToken, "sep_token": "[SEP]", "pad_token": "[PAD]",
                                                    "cls_token": "[CLS]", "mask_token": "[MASK]"], options: [.prettyPrinted, .sortedKeys])
    }

    private static func bool(_ v: Bool, _ out: inout JSONLineWriter) { v ? out.raw("true") : out.raw("false") }

    /// `[CLS] $A [SEP]`, all type 0.
    private static func singleTemplate(_ out: inout JSONLineWriter) {
        special("[CLS]", 0, &out)
        out.raw(",{\"Sequence\":{\"id\":\"A\",\"type_id\":0}},")
        special("[SEP]", 0, &out)
    }

    private static func special(_ token: StaticString, _ type: Int, _ out: inout JSONLineWriter) {
        out.raw("{\"SpecialToken\":{\"id\":\"")
        out.raw(token)
        out.raw("\",\"type_id\":")
        out.int(type)
        out.raw("}}")
    }
}
