import Foundation

/// Replaces every `open…close` span of `text` (e.g. `{ip}` or `<IP>`) with `replacement` of its inner name;
/// the template filler and the augmenter's resampling share it.
public func substitutePlaceholders(_ text: String, open: Character, close: Character, _ replacement: (Substring) -> String) -> String {
    var out = ""
    var rest = Substring(text)
    while let start = rest.firstIndex(of: open), let end = rest[start...].firstIndex(of: close) {
        out += rest[..<start]
        out += replacement(rest[rest.index(after: start)..<end])
        rest = rest[rest.index(after: end)...]
    }
    return out + rest
}
