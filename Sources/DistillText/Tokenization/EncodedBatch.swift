/// A batch of tokenized sequences, padded to one length: what a BERT-family model takes as input.
///
/// All arrays are row-major `[batchSize, sequenceLength]`.
public struct EncodedBatch: Sendable, Equatable {
    public var inputIDs: [Int]
    public var tokenTypeIDs: [Int]
    /// 1 for real tokens, 0 for padding.
    public var attentionMask: [Int]
    public var batchSize: Int
    public var sequenceLength: Int

    public init(inputIDs: [Int], tokenTypeIDs: [Int], attentionMask: [Int], batchSize: Int, sequenceLength: Int) {
        precondition(inputIDs.count == batchSize * sequenceLength && tokenTypeIDs.count == inputIDs.count
                     && attentionMask.count == inputIDs.count,
                     "EncodedBatch: arrays must hold batchSize x sequenceLength = \(batchSize * sequenceLength) ids")
        self.inputIDs = inputIDs
        self.tokenTypeIDs = tokenTypeIDs
        self.attentionMask = attentionMask
        self.batchSize = batchSize
        self.sequenceLength = sequenceLength
    }

    /// The ids of row `i` without padding.
    public func ids(row i: Int) -> [Int] {
        let start = i * sequenceLength
        return (0..<sequenceLength).compactMap { attentionMask[start + $0] != 0 ? inputIDs[start + $0] : nil }
    }
}
