import DistillCore

/// `y = x Wᵀ + b` with `weight` `[out, in]` and `bias` `[out]` (PyTorch/Hugging Face layout).
public final class Linear: Module {
    public let weight: Tensor
    public let bias: Tensor?

    /// Weights from N(0, std²) (BERT's `initializer_range`; 0 leaves them zero), bias zero.
    public init(inputSize: Int, outputSize: Int, bias: Bool = true, std: Float = 0.02, generator: inout RandomGenerator) {
        weight = std == 0 ? Tensor(zeros: [outputSize, inputSize]) : Tensor.randomNormal([outputSize, inputSize], std: std, using: &generator)
        self.bias = bias ? Tensor(zeros: [outputSize]) : nil
    }

    public var inputSize: Int { weight.shape[1] }
    public var outputSize: Int { weight.shape[0] }

    public var children: [(String, ModuleChild)] {
        [("weight", .parameter(weight))] + (bias.map { [("bias", .parameter($0))] } ?? [])
    }

    /// Applies the layer to `x` of shape `[..., in]`.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let y = matmul(x, weight, transposeB: true)
        return bias.map { y + $0 } ?? y
    }
}

/// A lookup table `weight` `[count, width]`.
public final class Embedding: Module {
    public let weight: Tensor

    public init(count: Int, width: Int, std: Float = 0.02, generator: inout RandomGenerator) {
        weight = std == 0 ? Tensor(zeros: [count, width]) : Tensor.randomNormal([count, width], std: std, using: &generator)
    }

    public var children: [(String, ModuleChild)] { [("weight", .parameter(weight))] }

    /// Rows for `ids`, shaped `shape + [width]`.
    public func callAsFunction(_ ids: [Int], shape: [Int]) -> Tensor { embedding(weight, indices: ids, shape: shape) }
}

/// Layer normalization over the last axis with `weight` (γ) and `bias` (β).
public final class LayerNorm: Module {
    public let weight: Tensor
    public let bias: Tensor
    public let epsilon: Float

    public init(width: Int, epsilon: Float = 1e-12) {
        weight = Tensor(repeating: 1, shape: [width])
        bias = Tensor(zeros: [width])
        self.epsilon = epsilon
    }

    public var children: [(String, ModuleChild)] { [("weight", .parameter(weight)), ("bias", .parameter(bias))] }

    public func callAsFunction(_ x: Tensor) -> Tensor { layerNorm(x, gamma: weight, beta: bias, epsilon: epsilon) }
}
