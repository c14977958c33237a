import ArgumentParser
import DistillNN

/// Bounds of the size flags, checked before anything is allocated (a typo such as `--batch 10000000000` used to
/// be accepted and then abort allocating 400 GB; `--max-length 0` answered every line from two tokens).
enum SizeLimits {
    /// Tokens per line for BERT models (a student reads at most its position count anyway).
    static let maxLength = ModelLimits.tokensPerLine
    /// Lines per batch of `classify` and `encode`.
    static let batch = 1...1_000_000

    static func check(_ value: Int, _ range: ClosedRange<Int>, flag: String) throws {
        guard range.contains(value) else {
            throw ValidationError("\(flag) must be within \(range.lowerBound)...\(range.upperBound), got \(value)")
        }
    }
}
