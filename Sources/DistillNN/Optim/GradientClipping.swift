import DistillCore

/// Scales all gradients down so that their global L2 norm is at most `maxNorm` (PyTorch's
/// `clip_grad_norm_`, with the same `1e-6` guard). Returns the norm before clipping.
@discardableResult
public func clipGradientsByGlobalNorm(_ gradients: inout Gradients, maxNorm: Float) -> Float {
    precondition(maxNorm > 0, "clipGradientsByGlobalNorm: maxNorm must be > 0, got \(maxNorm)")
    let norm = gradients.globalNorm
    let factor = maxNorm / (norm + 1e-6)
    if factor < 1 { gradients.scale(by: factor) }
    return norm
}
