import DistillCore
import DistillNN
import DistillText

/// A student's tape-free inference engine (``ClassifierModel/inferenceEngine(maxLength:)``: ``BertInference``
/// behind its tokenizer, ``NGramBagInference``) with its text preparation: tokenization or featurization runs on
/// the engine's worker threads. What ``Classifier`` runs; the same numbers as the modules' forward passes up to
/// float rounding.
public final class StudentInference: @unchecked Sendable {
    private let engine: any ClassifierEngine

    /// Builds the engine over the student's weights (shared, not copied); token inputs are cut to `maxLength`
    /// tokens (nil: the folder's `model_max_length`; never more than the model's `max_position_embeddings`).
    public init(_ student: Student, maxLength: Int? = nil) {
        engine = student.model.inferenceEngine(maxLength: maxLength)
    }

    /// Buffer (re)allocations the engine's workspaces made so far.
    public var workspaceGrowths: Int { engine.workspaceGrowths }

    /// Class logits per text.
    public func logits(_ texts: [String]) -> [[Float]] { rows(texts, softmax: false) }

    /// Class probabilities per text.
    public func probabilities(_ texts: [String]) -> [[Float]] { rows(texts, softmax: true) }

    private func rows(_ texts: [String], softmax: Bool) -> [[Float]] {
        var out = [[Float]](repeating: [], count: texts.count)
        out.withUnsafeMutableBufferPointer { buffer in
            let target = UnsafeSendable(buffer)
            let write: (Int, UnsafeBufferPointer<Float>) -> Void = { i, values in
                var row = Array(values)
                if softmax { row.withUnsafeMutableBufferPointer { RowKernels.softmax($0.baseAddress!, rows: 1, width: $0.count) } }
                target.value[i] = row
            }
            engine.logits(count: texts.count, text: { texts[$0] }, write: write)
        }
        return out
    }
}
