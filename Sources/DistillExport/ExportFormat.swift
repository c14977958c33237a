/// The formats `distill export` writes.
public enum ExportFormat: String, CaseIterable, Sendable {
    /// A Hugging Face folder `transformers` runs with the same logits (BERT models).
    case hf
    /// `model.onnx` (opset 17) for ONNX Runtime, Triton and the like (BERT and n-gram bag models).
    case onnx
}
