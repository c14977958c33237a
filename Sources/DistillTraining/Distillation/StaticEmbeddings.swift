import DistillCore
import DistillNN
import DistillText

/// A teacher's static embeddings, by model2vec's method: every entry of a vocabulary goes through the teacher
/// alone (`[CLS] pieces [SEP]`), the last layer's states are averaged over those positions, and PCA takes the
/// vectors down to the student's width. A student initialized from them starts with what the teacher knows about
/// words the labelled lines never show (see ``StudentEmbeddingInitialization``).
///
/// Unlike model2vec no SIF weighting is applied: the student trains on, and the weighting of a static model
/// that is never trained would only rescale rows.
public struct StaticEmbeddings: Sendable {
    /// The entries, in order.
    public let entries: [String]
    public let width: Int
    /// `[entries, width]`, row-major.
    public let vectors: [Float]
    /// Variance of the teacher vectors kept by the PCA.
    public let explainedVariance: Double

    /// Most word pieces of one entry sent to the teacher (longer entries are cut).
    public static let maximumPieces = 16

    /// Runs each entry through `teacher`: an entry that is itself a token of its vocabulary is sent as that token
    /// (`##ing` as the continuation piece), any other as its word pieces. `width` larger than the teacher's is
    /// filled with zero columns.
    public init(teacher: BertModel, tokenizer: WordPieceTokenizer, entries: [String], width: Int) throws {
        let hidden = teacher.config.hiddenSize
        let raw = Self.teacherVectors(teacher: teacher, tokenizer: tokenizer, entries: entries)
        let pca = try PrincipalComponents(raw, rows: entries.count, columns: hidden, components: min(width, hidden))
        var vectors = [Float](repeating: 0, count: entries.count * width)
        for r in 0..<entries.count {
            for c in 0..<pca.components { vectors[r * width + c] = pca.scores[r * pca.components + c] }
        }
        self.entries = entries
        self.width = width
        self.vectors = vectors
        explainedVariance = pca.explainedVarianceRatio.reduce(0, +)
    }

    /// The token ids `entry` is sent to the teacher as: `[CLS] token [SEP]` for a token of the vocabulary, else
    /// `[CLS]` + its word pieces (at most ``maximumPieces``; `[UNK]` when there are none) + `[SEP]`.
    public static func sequence(for entry: String, tokenizer: WordPieceTokenizer) -> [Int] {
        if let id = tokenizer.vocabulary.id(entry) { return [tokenizer.clsID, id, tokenizer.sepID] }
        let pieces = tokenizer.wordPieceIDs(entry, limit: maximumPieces)
        return [tokenizer.clsID] + (pieces.isEmpty ? [tokenizer.unkID] : pieces) + [tokenizer.sepID]
    }

    /// The teacher's vectors of `entries` before the PCA, `[entries, hidden]`: the mean of the last layer's states
    /// over the positions of ``sequence(for:tokenizer:)``.
    public static func teacherVectors(teacher: BertModel, tokenizer: WordPieceTokenizer, entries: [String]) -> [Float] {
        let sequences = entries.map { sequence(for: $0, tokenizer: tokenizer) }
        let hidden = teacher.config.hiddenSize
        var raw = [Float](repeating: 0, count: entries.count * hidden)
        let engine = BertInference(encoder: teacher, pooling: .mean)
        raw.withUnsafeMutableBufferPointer { out in
            let base = out.baseAddress!
            engine.run(count: sequences.count, output: .pooled, sequence: { sequences[$0] }) { i, values in
                (base + i * hidden).update(from: values.baseAddress!, count: hidden)
            }
        }
        return raw
    }

    /// Row `i`.
    public func vector(_ i: Int) -> ArraySlice<Float> { vectors[(i * width)..<((i + 1) * width)] }
}
