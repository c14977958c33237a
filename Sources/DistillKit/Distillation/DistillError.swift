import Foundation

/// Errors of the distillation layer (recipes, data, layer maps, checkpoints).
public enum DistillError: Error, Equatable, LocalizedError {
    case invalidLayerMap(index: Int, detail: String)
    case invalidData(file: String, line: Int, detail: String)
    case checkpoint(path: String, detail: String)

    public var errorDescription: String? {
        switch self {
        case let .invalidLayerMap(index, detail): return "layer_map[\(index)]: \(detail)"
        case let .invalidData(file, line, detail): return "\(file):\(line): \(detail)"
        case let .checkpoint(path, detail): return "\(path): \(detail)"
        }
    }
}
