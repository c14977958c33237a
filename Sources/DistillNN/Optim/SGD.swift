import DistillCore

/// Stochastic gradient descent with momentum, as PyTorch's `torch.optim.SGD`:
/// `g ← g + λp` (L2 weight decay), `b ← μb + g` (`b = g` on the first step), `p ← p − lr·b`
/// (Nesterov: `p ← p − lr·(g + μb)`).
public final class SGD {
    public var learningRate: Float
    public var momentum: Float
    public var weightDecay: Float
    public var nesterov: Bool
    private var buffers: [String: Tensor] = [:]

    public init(learningRate: Float, momentum: Float = 0, weightDecay: Float = 0, nesterov: Bool = false) {
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.nesterov = nesterov
    }

    /// Applies one update to every parameter that has a gradient.
    public func update(_ parameters: [NamedParameter], gradients: Gradients) {
        checkUniqueNames(parameters, optimizer: "SGD")
        for p in parameters {
            guard let g = gradients[p.tensor] else { continue }
            precondition(buffers[p.name] == nil || buffers[p.name]!.shape == p.tensor.shape,
                         "SGD: momentum for '\(p.name)' has shape \(buffers[p.name]!.shape), the parameter has \(p.tensor.shape)")
            let pw = p.tensor.storage.pointer, pg = g.storage.pointer
            let fresh = buffers[p.name] == nil
            let buffer = buffers[p.name] ?? Tensor(zeros: p.tensor.shape)
            buffers[p.name] = buffer
            let pb = buffer.storage.pointer
            for i in 0..<p.tensor.count {
                var d = pg[i] + weightDecay * pw[i]
                if momentum != 0 {
                    pb[i] = fresh ? d : momentum * pb[i] + d
                    d = nesterov ? d + momentum * pb[i] : pb[i]
                }
                pw[i] -= learningRate * d
            }
        }
    }
}
