import DistillCore
import DistillNN
import DistillText
import Foundation

/// fastText's optimizer for the n-gram bag (`training.optimizer: sgd`): plain SGD with no optimizer state, where
/// a batch is its examples' updates summed — each example moves the weights by `learningRate ×` its gradient, as
/// fastText's per-example updates do — computed at the batch's starting weights.
///
/// One step runs the forward pass and the gradient of every example of the batch in parallel, each into its own
/// slot (mean of its feature rows, logits, the distillation loss's gradient, the gradient of its mean row), then
/// applies the updates serially in example order: the result does not depend on the thread count, and a resumed run
/// is exact. The loss is ``distillationLoss(studentLogits:softTargets:hasSoftTarget:hardLabels:alpha:temperature:classWeights:labelSmoothing:exampleWeights:)``'s
/// — the update is `−learningRate × n ×` its gradient for `n` contributing examples — without clipping or weight
/// decay (as fastText). Needs a bag without a hidden layer (`hidden_size: 0`, the default).
struct BagSGD {
    let model: NGramBag
    let classes: Int
    let width: Int

    init(model: NGramBag) throws {
        guard model.hidden == nil, model.classifier.bias != nil else {
            throw DistillError.invalidData(file: "recipe", line: 0, detail: "training.optimizer sgd needs an n-gram bag without a hidden layer (hidden_size: 0)")
        }
        self.model = model
        classes = model.classifier.outputSize
        width = model.config.embeddingSize
    }

    /// What one example left for the serial update.
    private struct Slot {
        var features: [Int] = []
        var mean: [Float] = []
        var logitGradient: [Float] = []
        var rowGradient: [Float] = []
        /// Weighted soft and hard losses, and their share of the total (alpha applied).
        var soft: Float = 0, hard: Float = 0, contribution: Float = 0
        var softWeight: Float = 0, hardWeight: Float = 0
    }

    /// Trains on one batch and returns its loss, as ``DistillationLoss`` reports it.
    /// - Parameter meanWeight: as ``distillationLoss(studentLogits:softTargets:hasSoftTarget:hardLabels:alpha:temperature:classWeights:labelSmoothing:exampleWeights:meanWeight:)``'s.
    func step(_ batch: [TrainingExample], learningRate: Float, alpha: Float, temperature: Float, classWeights: [Float]?,
              labelSmoothing: Float, meanWeight: Float? = nil) -> (total: Float, soft: Float, hard: Float) {
        var slots = [Slot](repeating: Slot(), count: batch.count)
        let workers = min(ComputeThreads.count, batch.count)
        slots.withUnsafeMutableBufferPointer { buffer in
            let out = UnsafeSendable(buffer)
            forEachWorker(workers) { w in
                var scratch = NGramFeaturizer.Scratch()
                for i in stride(from: w, to: batch.count, by: workers) {
                    out.value[i] = forward(batch[i], scratch: &scratch, alpha: alpha, temperature: temperature,
                                           classWeights: classWeights, labelSmoothing: labelSmoothing)
                }
            }
        }
        // Examples with a soft target or a gold label (the others left an empty slot).
        let counted = batch.indices.filter { !slots[$0].logitGradient.isEmpty }
        guard !counted.isEmpty else { return (0, 0, 0) }
        let total = meanWeight.map { Float(counted.count) * $0 } ?? counted.reduce(Float(0)) { $0 + batch[$1].weight }
        // The mean loss's gradient times n: each example's own gradient when every weight is 1.
        let scale = learningRate * Float(counted.count) / total
        let table = model.embeddings.weight.storage.pointer
        let w = model.classifier.weight.storage.pointer, b = model.classifier.bias!.storage.pointer
        for slot in slots where !slot.logitGradient.isEmpty {
            for c in 0..<classes {
                let g = scale * slot.logitGradient[c]
                b[c] -= g
                for j in 0..<width { w[c * width + j] -= g * slot.mean[j] }
            }
            guard !slot.features.isEmpty else { continue }
            let f = scale / Float(slot.features.count)
            for id in slot.features {
                let row = table + id * width
                for j in 0..<width { row[j] -= f * slot.rowGradient[j] }
            }
        }
        var soft: Float = 0, hard: Float = 0, softWeight: Float = 0, hardWeight: Float = 0, sum: Float = 0
        for s in slots {
            sum += s.contribution
            soft += s.soft; hard += s.hard
            softWeight += s.softWeight; hardWeight += s.hardWeight
        }
        return (sum / total, softWeight > 0 ? soft / softWeight : 0, hardWeight > 0 ? hard / hardWeight : 0)
    }

    /// One example at the current weights: its features, mean row, the gradient of its weighted loss with respect
    /// to the logits and to the mean row, and its weighted soft and hard losses.
    private func forward(_ e: TrainingExample, scratch: inout NGramFeaturizer.Scratch, alpha: Float, temperature: Float,
                         classWeights: [Float]?, labelSmoothing: Float) -> Slot {
        var slot = Slot()
        let hasSoft = e.teacher != nil, hasHard = e.label != nil
        guard hasSoft || hasHard else { return slot }
        let table = model.embeddings.weight.storage.pointer
        model.config.featurizer.forEachFeature(e.text, scratch: &scratch) { slot.features.append($0) }
        var mean = [Float](repeating: 0, count: width)
        for id in slot.features {
            let row = table + id * width
            for j in 0..<width { mean[j] += row[j] }
        }
        if !slot.features.isEmpty {
            let inverse = 1 / Float(slot.features.count)
            for j in 0..<width { mean[j] *= inverse }
        }
        let w = model.classifier.weight.storage.pointer, b = model.classifier.bias!.storage.pointer
        var logits = [Float](repeating: 0, count: classes)
        for c in 0..<classes {
            var z = b[c]
            for j in 0..<width { z += w[c * width + j] * mean[j] }
            logits[c] = z
        }
        var gradient = [Float](repeating: 0, count: classes)
        let (softShare, hardShare): (Float, Float) = hasSoft && hasHard ? (alpha, 1 - alpha) : (hasSoft ? 1 : 0, hasHard ? 1 : 0)
        if let teacher = e.teacher {
            // T²·KL(p_t^T ‖ softmax(z/T)): gradient T·(softmax(z/T) − p_t^T), p_t^T = p_t^(1/T) renormalized.
            let student = Self.logSoftmax(logits.map { $0 / temperature })
            let target = Self.logSoftmax(teacher.map { $0 > 0 ? Foundation.log($0) / temperature : -.infinity })
            var kl: Float = 0
            for c in 0..<classes {
                let p = target[c] > -.infinity ? Foundation.exp(target[c]) : 0
                if p > 0 { kl += p * (target[c] - student[c]) }
                gradient[c] += softShare * e.weight * temperature * (Foundation.exp(student[c]) - p)
            }
            slot.soft = e.weight * temperature * temperature * kl
            slot.contribution += softShare * slot.soft
            slot.softWeight = e.weight
        }
        if let y = e.label {
            // (1−ε)·w_y·(−log p_y) + (ε/C)·Σ_c w_c·(−log p_c), as softmaxCrossEntropy.
            let logp = Self.logSoftmax(logits)
            let cw = classWeights ?? [Float](repeating: 1, count: classes)
            let eps = labelSmoothing, weightSum = cw.reduce(0, +)
            var loss = (1 - eps) * cw[y] * -logp[y]
            if eps > 0 { for c in 0..<classes { loss -= eps / Float(classes) * cw[c] * logp[c] } }
            for c in 0..<classes {
                let p = Foundation.exp(logp[c])
                var d = (1 - eps) * cw[y] * (p - (c == y ? 1 : 0))
                if eps > 0 { d += eps / Float(classes) * (weightSum * p - cw[c]) }
                gradient[c] += hardShare * e.weight * d
            }
            slot.hard = e.weight * loss
            slot.contribution += hardShare * slot.hard
            slot.hardWeight = e.weight
        }
        var rowGradient = [Float](repeating: 0, count: width)
        for c in 0..<classes where gradient[c] != 0 {
            for j in 0..<width { rowGradient[j] += gradient[c] * w[c * width + j] }
        }
        slot.mean = mean
        slot.logitGradient = gradient
        slot.rowGradient = rowGradient
        return slot
    }

    private static func logSoftmax(_ x: [Float]) -> [Float] {
        let m = x.max() ?? 0
        let lse = m + Foundation.log(x.reduce(Float(0)) { $1 > -.infinity ? $0 + Foundation.exp($1 - m) : $0 })
        return x.map { $0 - lse }
    }
}
