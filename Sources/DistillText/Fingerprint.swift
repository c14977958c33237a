/// FNV-1a 64 over UTF-8 bytes: a stable identity for template ids, cache keys and prompt versions (not for
/// security). The same everywhere, so a template id computed by `serve` matches one computed at training time.
public enum Fingerprint {
    /// The FNV-1a 64 offset basis ``of(_:)`` starts from.
    public static let basis: UInt64 = 0xCBF2_9CE4_8422_2325

    /// FNV-1a 64 over the UTF-8 of `parts`, each followed by a 0xFF separator.
    public static func of(_ parts: [String]) -> UInt64 {
        parts.reduce(basis) { adding($1.utf8, to: $0) }
    }

    /// One part of ``of(_:)``: `bytes`, then the 0xFF separator, folded into `hash`.
    public static func adding<Bytes: Sequence<UInt8>>(_ bytes: Bytes, to hash: UInt64) -> UInt64 {
        var h = hash
        for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return (h ^ 0xFF) &* 0x0000_0100_0000_01B3
    }
}
