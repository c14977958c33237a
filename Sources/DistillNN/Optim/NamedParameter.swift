import DistillCore
import Foundation

/// A trainable tensor with its dotted checkpoint name (`encoder.layer.0.attention.self.query.weight`).
///
/// Optimizers use the name to decide on weight decay and to key their saved state.
public struct NamedParameter {
    public let name: String
    public let tensor: Tensor

    public init(_ name: String, _ tensor: Tensor) {
        self.name = name
        self.tensor = tensor
    }

    /// The usual BERT rule: no weight decay on biases, LayerNorm weights, or any rank-1 tensor.
    public static func isExcludedFromWeightDecay(_ parameter: NamedParameter) -> Bool {
        let n = parameter.name.lowercased()
        return parameter.tensor.rank <= 1 || n.hasSuffix("bias") || n.contains("layernorm") || n.contains("layer_norm")
    }
}

/// Errors from optimizer state handling.
public enum OptimizerError: Error, Equatable, CustomStringConvertible {
    /// Saved state is missing a tensor the optimizer needs, or has the wrong shape.
    case stateMismatch(key: String, detail: String)

    public var description: String {
        switch self {
        case let .stateMismatch(key, detail): return "optimizer state '\(key)': \(detail)"
        }
    }
}

extension OptimizerError: LocalizedError {
    public var errorDescription: String? { description }
}

/// Optimizer state is keyed by name: two parameters with one name would share (and overrun) it.
func checkUniqueNames(_ parameters: [NamedParameter], optimizer: String) {
    var seen = Set<String>()
    for p in parameters where !seen.insert(p.name).inserted {
        preconditionFailure("\(optimizer): parameter name '\(p.name)' appears twice; names key the optimizer state")
    }
}
