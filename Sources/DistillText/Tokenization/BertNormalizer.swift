import Foundation

/// Bert text normalization and pre-tokenization, as Hugging Face `tokenizers`' `BertNormalizer` +
/// `BertPreTokenizer` (and Python's `BasicTokenizer`): remove control characters, map whitespace to spaces,
/// put spaces around CJK ideographs, strip accents (NFD, drop non-spacing marks) and lowercase, then split on
/// whitespace and isolate each punctuation character.
public struct BertNormalizer: Sendable, Equatable {
    public var cleanText = true
    public var handleChineseChars = true
    /// nil: follow `lowercase` (the Hugging Face default).
    public var stripAccents: Bool? = nil
    public var lowercase = true

    public init(cleanText: Bool = true, handleChineseChars: Bool = true, stripAccents: Bool? = nil, lowercase: Bool = true) {
        self.cleanText = cleanText
        self.handleChineseChars = handleChineseChars
        self.stripAccents = stripAccents
        self.lowercase = lowercase
    }

    /// The normalized text.
    public func normalize(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        for c in text.unicodeScalars {
            if cleanText {
                if c.value == 0 || c.value == 0xFFFD || isControl(c) { continue }
                if isWhitespace(c) { scalars.append(" "); continue }
            }
            if handleChineseChars && isChineseChar(c) {
                scalars.append(" "); scalars.append(c); scalars.append(" ")
            } else {
                scalars.append(c)
            }
        }
        var s = String(scalars)
        if stripAccents ?? lowercase {
            let decomposed = s.decomposedStringWithCanonicalMapping.unicodeScalars
            s = String(String.UnicodeScalarView(decomposed.filter { $0.properties.generalCategory != .nonspacingMark }))
        }
        if lowercase { s = s.lowercased() }
        return s
    }

    /// Words after splitting normalized text on whitespace and around punctuation.
    public func preTokenize(_ normalized: String) -> [Substring.UnicodeScalarView] {
        var words: [Substring.UnicodeScalarView] = []
        let view = Substring(normalized).unicodeScalars
        var start = view.startIndex
        var i = view.startIndex
        while i < view.endIndex {
            let c = view[i]
            if isWhitespace(c) {
                if start < i { words.append(view[start..<i]) }
                view.formIndex(after: &i)
                start = i
            } else if isPunctuation(c) {
                if start < i { words.append(view[start..<i]) }
                let next = view.index(after: i)
                words.append(view[i..<next])
                i = next
                start = i
            } else {
                view.formIndex(after: &i)
            }
        }
        if start < view.endIndex { words.append(view[start..<view.endIndex]) }
        return words
    }
}

/// Rust's `char::is_whitespace` (Unicode White_Space) plus tab/newline/return, as `tokenizers` uses.
@inline(__always)
func isWhitespace(_ c: Unicode.Scalar) -> Bool {
    switch c.value {
    case 0x20, 0x09, 0x0A, 0x0D: return true
    case 0..<0x80: return c.value == 0x0B || c.value == 0x0C
    default: return c.properties.isWhitespace
    }
}

/// Control per `tokenizers`: any "other" category (Cc, Cf, Co, Cs, Cn) except tab/newline/return.
@inline(__always)
func isControl(_ c: Unicode.Scalar) -> Bool {
    if c.value == 0x09 || c.value == 0x0A || c.value == 0x0D { return false }
    if c.value < 0x80 { return c.value < 0x20 || c.value == 0x7F }
    if isChineseChar(c) { return false }  // the reference's tables count whole CJK blocks as letters
    switch c.properties.generalCategory {
    case .control, .format, .privateUse, .surrogate, .unassigned: return true
    default: return false
    }
}

/// ASCII punctuation or a Unicode punctuation category (Pc, Pd, Pe, Pf, Pi, Po, Ps).
@inline(__always)
func isPunctuation(_ c: Unicode.Scalar) -> Bool {
    let v = c.value
    if v < 0x80 { return (33...47).contains(v) || (58...64).contains(v) || (91...96).contains(v) || (123...126).contains(v) }
    switch c.properties.generalCategory {
    case .connectorPunctuation, .dashPunctuation, .closePunctuation, .finalPunctuation, .initialPunctuation,
         .otherPunctuation, .openPunctuation:
        return true
    default:
        return false
    }
}

/// CJK Unified Ideographs blocks, as `tokenizers` defines "Chinese characters" (note 0x2B920, not the
/// 0x2B820 of Python's BertTokenizer: checked against the library).
@inline(__always)
func isChineseChar(_ c: Unicode.Scalar) -> Bool {
    switch c.value {
    case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F, 0x2B740...0x2B81F,
         0x2B920...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
        return true
    default:
        return false
    }
}
