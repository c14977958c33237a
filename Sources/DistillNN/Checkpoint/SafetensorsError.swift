import Foundation

/// Why a safetensors file could not be read or written. Every case names the file and, where there is
/// one, the tensor or byte offset at fault.
public enum SafetensorsError: Error, Equatable, LocalizedError {
    case cannotOpen(path: String, reason: String)
    case truncated(path: String, detail: String)
    case invalidHeader(path: String, detail: String)
    case invalidTensor(path: String, tensor: String, detail: String)
    case overlappingTensors(path: String, first: String, second: String)
    case unsupportedDType(path: String, tensor: String, dtype: String)
    case missingTensor(path: String, tensor: String)
    case writeFailed(path: String, reason: String)

    public var errorDescription: String? {
        switch self {
        case let .cannotOpen(path, reason): return "\(path): cannot open safetensors file: \(reason)"
        case let .truncated(path, detail): return "\(path): truncated safetensors file: \(detail)"
        case let .invalidHeader(path, detail): return "\(path): invalid safetensors header: \(detail)"
        case let .invalidTensor(path, tensor, detail): return "\(path): tensor '\(tensor)': \(detail)"
        case let .overlappingTensors(path, first, second):
            return "\(path): tensors '\(first)' and '\(second)' overlap in the data section"
        case let .unsupportedDType(path, tensor, dtype):
            return "\(path): tensor '\(tensor)' has dtype \(dtype); Distill reads F32, F16, BF16 (and integer buffers as integers)"
        case let .missingTensor(path, tensor): return "\(path): no tensor named '\(tensor)'"
        case let .writeFailed(path, reason): return "\(path): cannot write safetensors file: \(reason)"
        }
    }
}
