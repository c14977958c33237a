import DistillCore
import DistillNN
import DistillText

/// A student's tape-free inference engine (``BertInference`` or ``NGramBagInference``) with its text
/// preparation: tokenization or featurization runs on the engine's worker threads. What ``Classifier``
/// runs; the same numbers as the modules' forward passes up to float rounding.
public final class StudentInference: @unchecked Sendable {
    private enum Engine {
        case bert(BertInference, WordPieceTokenizer, maxLength: Int)
        case bag(NGramBagInference)
    }
    private let engine: Engine

    /// Builds the engine over the student's weights (shared, not copied); BERT inputs are cut to `maxLength`
    /// tokens (nil: the folder's `model_max_length`; never more than the model's `max_position_embeddings`).
    public init(_ student: Student, maxLength: Int? = nil) {
        let limit = student.maxLength(requested: maxLength)
        switch student {
        case let .bert(model, tokenizer):
            engine = .bert(BertInference(model), tokenizer, maxLength: limit ?? 2)
        case let .ngramBag(model):
            engine = .bag(NGramBagInference(model))
        }
    }

    /// Buffer (re)allocations the engine's workspaces made so far.
    public var workspaceGrowths: Int {
        switch engine {
        case let .bert(e, _, _): return e.workspaceGrowths
        case let .bag(e): return e.workspaceGrowths
        }
    }

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
            switch engine {
            case let .bert(e, tokenizer, maxLength):
                e.run(count: texts.count, output: .logits, sequence: { tokenizer.encode(texts[$0], maxLength: maxLength) }, write: write)
            case let .bag(e):
                e.logits(count: texts.count, text: { texts[$0] }, write: write)
            }
        }
        return out
    }
}
