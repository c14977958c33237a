import Foundation

/// Why an export could not be written.
public enum ExportError: Error, Equatable, LocalizedError {
    /// The model has no form in the requested format (the n-gram bag has no `transformers` architecture).
    case unsupported(format: ExportFormat, detail: String)
    /// The output folder is the source model's folder or holds it.
    case wouldReplaceSource(output: String, source: String)
    /// The output folder exists with files in it, and replacing was not asked for.
    case outputExists(path: String, files: Int)
    /// A tensor the exported graph needs is not in the model.
    case missingTensor(String)
    /// The output could not be written.
    case io(path: String, detail: String)
    /// The ONNX file would pass protobuf's 2 GiB message limit.
    case tooLarge(bytes: Int)

    public var errorDescription: String? {
        switch self {
        case let .unsupported(format, detail): return "cannot export as \(format.rawValue): \(detail)"
        case let .wouldReplaceSource(output, source):
            return "--out \(output) is the model's folder or holds it (\(source)); an export replaces its output folder: choose another"
        case let .outputExists(path, files):
            return "\(path) exists and holds \(files) file\(files == 1 ? "" : "s"); pass --force to replace it (the whole folder) or choose another --out"
        case let .missingTensor(name): return "the model has no tensor '\(name)' (a Distill student folder holds it; was the folder edited?)"
        case let .io(path, detail): return "\(path): \(detail)"
        case let .tooLarge(bytes):
            return "the ONNX graph would be \(bytes >> 20) MiB, past protobuf's 2 GiB limit (external data is not written); use a smaller model"
        }
    }
}
