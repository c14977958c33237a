import DistillText
import Foundation

/// One shard of a labelling job (`distill label --shard I/N`, e.g. a Kubernetes Indexed Job's
/// `JOB_COMPLETION_INDEX`): the lines whose template hashes to `index` modulo `count`. Every line of a template
/// lands in one shard, so shards ask disjoint questions; which shard a template belongs to depends only on its
/// text, not on the machine, the run or the order of the input.
public struct LabelShard: Sendable, Equatable, CustomStringConvertible {
    /// 0-based, below `count`.
    public let index: Int
    public let count: Int

    public init(index: Int, count: Int) throws {
        guard count >= 1, index >= 0, index < count else { throw ShardError.outOfRange(index: index, count: count) }
        (self.index, self.count) = (index, count)
    }

    /// Parses `I/N` (0-based `I`, as Kubernetes numbers completion indexes).
    public init(parsing text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]) else { throw ShardError.malformed(text) }
        try self.init(index: index, count: count)
    }

    public var description: String { "\(index)/\(count)" }

    /// Whether the template `template` (of ``LabelingJob/templates(_:)``) is this shard's: FNV-1a 64 of its
    /// UTF-8, modulo `count`.
    public func contains(template: String) -> Bool {
        Fingerprint.of([template]) % UInt64(count) == UInt64(index)
    }

    /// A `--shard` value that cannot name a shard.
    public enum ShardError: Error, LocalizedError, Equatable {
        case malformed(String)
        case outOfRange(index: Int, count: Int)

        public var errorDescription: String? {
            switch self {
            case let .malformed(text): "--shard '\(text)': expected I/N, e.g. 0/4 (I from 0 to N-1)"
            case let .outOfRange(index, count): "--shard \(index)/\(count): the index must be from 0 to \(max(0, count - 1)) and the count at least 1"
            }
        }
    }
}
