import Foundation

/// Why an export could not be written.
public enum ExportError: Error, Equatable, LocalizedError {
    /// The model has no form in the requested format (the n-gram bag has no `transformers` architecture).
    case unsupported(format: String, detail: String)
    /// A tensor the exported graph needs is not in the model.
    case missingTensor(String)
    /// The output could not be written.
    case io(path: String, detail: String)
    /// The ONNX file would pass protobuf's 2 GiB message limit.
    case tooLarge(bytes: Int)

    public var errorDescription: String? {
        switch self {
        case let .unsupported(format, detail): return "cannot export as \(format): \(detail)"
        case let .missingTensor(name): return "the model has no tensor '\(name)' (a Distill student folder holds it; was the folder edited?)"
        case let .io(path, detail): return "\(path): \(detail)"
        case let .tooLarge(bytes):
            return "the ONNX graph would be \(bytes >> 20) MiB, past protobuf's 2 GiB limit (external data is not written); use a smaller model"
        }
    }
}
