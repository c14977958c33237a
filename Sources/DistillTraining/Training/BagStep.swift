import CVectorKernels
import DistillCore
import DistillNN
import DistillText
import Foundation
import Synchronization

/// The n-gram bag's training step without the tape (a bag without a hidden layer): each example's forward pass and
/// gradient computed in parallel from feature rows computed once per training example, then either fastText's
/// SGD update (``sgd(_:learningRate:loss:)``, `training.optimizer: sgd`) or the batch's gradients for AdamW with the
/// embedding table's as the rows the batch read (``gradients(_:loss:)``, the default lazy Adam).
///
/// The loss is ``distillationLoss(studentLogits:softTargets:hasSoftTarget:hardLabels:alpha:temperature:classWeights:labelSmoothing:exampleWeights:meanWeight:)``'s
/// and its gradient the tape's (tested). Each example is computed into its own slot; the slots are combined in
/// example order, so the result does not depend on the thread count and a resumed run is exact.
final class BagStep {
    let model: NGramBag
    let examples: [TrainingExample]
    let classes: Int
    let width: Int
    /// Each example's feature rows, computed once; nil past ``featureCacheLimit`` rows in all (then computed at each use).
    private let cachedFeatures: [[Int32]?]
    /// One bit per table row, set for the rows the current batch read (cleared as they are read back). Buffers,
    /// not array properties: no exclusivity check per access.
    private let rowBits: UnsafeMutableBufferPointer<UInt64>
    /// The slot of each table row the current batch read (its rank among the batch's rows); other entries are stale
    /// and never read.
    private let slotOf: UnsafeMutableBufferPointer<Int32>

    /// About this many feature rows are kept (4 bytes each, 128 MB; the block that crosses it is kept whole): the
    /// examples beyond are featurized at each step.
    static let featureCacheLimit = 1 << 25

    /// The loss settings of one step (``DistillationTrainer``'s schedule at that step).
    struct Loss {
        var alpha: Float, temperature: Float, classWeights: [Float]?, labelSmoothing: Float
        /// As ``distillationLoss(studentLogits:softTargets:hasSoftTarget:hardLabels:alpha:temperature:classWeights:labelSmoothing:exampleWeights:meanWeight:)``'s.
        var meanWeight: Float?
    }

    /// The loss of a batch as ``DistillationLoss`` reports it.
    typealias Value = (total: Float, soft: Float, hard: Float)

    /// `featureCacheLimit`: about how many feature rows to keep (tests lower it to run the uncached path).
    init(model: NGramBag, examples: [TrainingExample], featureCacheLimit: Int = BagStep.featureCacheLimit) throws {
        guard model.hidden == nil, model.classifier.bias != nil else {
            throw DistillError.invalidData(file: "recipe", line: 0, detail: "the tape-free bag step needs an n-gram bag without a hidden layer (hidden_size: 0) and with a classifier bias")
        }
        guard model.config.featurizer.buckets <= Int(Int32.max) else {
            throw DistillError.invalidData(file: "recipe", line: 0, detail: "student.buckets \(model.config.featurizer.buckets) is more than \(Int32.max)")
        }
        self.model = model
        self.examples = examples
        let words = (model.config.featurizer.buckets + 63) / 64
        rowBits = .allocate(capacity: words)
        rowBits.initialize(repeating: 0)
        slotOf = .allocate(capacity: model.config.featurizer.buckets)
        slotOf.initialize(repeating: 0)
        classes = model.classifier.outputSize
        width = model.config.embeddingSize
        // Blocks in order, each featurized in parallel, until the budget is spent: the cache never holds more.
        var cache = [[Int32]?](repeating: nil, count: examples.count)
        let featurizer = model.config.featurizer
        var kept = 0, start = 0
        while start < examples.count && kept < featureCacheLimit {
            let block = start..<min(examples.count, start + 4096)
            cache.withUnsafeMutableBufferPointer { buffer in
                let out = UnsafeSendable(buffer)
                parallelFor(block.count, grain: 256) { range in
                    var scratch = NGramFeaturizer.Scratch()
                    for i in range {
                        out.value[block.lowerBound + i] = Self.hashedFeatures(examples[block.lowerBound + i].text, featurizer, &scratch)
                    }
                }
            }
            kept += cache[block].reduce(0) { $0 + ($1?.count ?? 0) }
            start = block.upperBound
        }
        cachedFeatures = cache
    }

    deinit {
        rowBits.deallocate()
        slotOf.deallocate()
    }

    /// The feature rows of example `i`.
    private func features(_ i: Int, scratch: inout NGramFeaturizer.Scratch) -> [Int32] {
        cachedFeatures[i] ?? Self.hashedFeatures(examples[i].text, model.config.featurizer, &scratch)
    }

    /// The feature rows of `text` (bucket ids fit 32 bits: checked in `init`).
    private static func hashedFeatures(_ text: String, _ featurizer: NGramFeaturizer, _ scratch: inout NGramFeaturizer.Scratch) -> [Int32] {
        var ids: [Int32] = []
        featurizer.forEachFeature(text, scratch: &scratch) { ids.append(Int32($0)) }
        return ids
    }

    /// What each example of a batch left for the update, one slot per example: flat `[n, width]` and `[n, classes]`
    /// buffers that the workers write at disjoint slots.
    private final class Slots: @unchecked Sendable {
        let features: UnsafeMutableBufferPointer<[Int32]>
        let means: UnsafeMutableBufferPointer<Float>
        /// The gradient of the example's weighted loss with respect to its logits (0 for an example without target).
        let logitGradients: UnsafeMutableBufferPointer<Float>
        /// The same with respect to its mean row.
        let rowGradients: UnsafeMutableBufferPointer<Float>
        let counted: UnsafeMutableBufferPointer<Bool>
        /// Weighted soft and hard losses, their weights, and the example's share of the total (alpha applied).
        let soft, hard, softWeight, hardWeight, contribution: UnsafeMutableBufferPointer<Float>

        init(count n: Int, width: Int, classes: Int) {
            func zeros(_ count: Int) -> UnsafeMutableBufferPointer<Float> {
                let b = UnsafeMutableBufferPointer<Float>.allocate(capacity: count)
                b.initialize(repeating: 0)
                return b
            }
            features = .allocate(capacity: n)
            features.initialize(repeating: [])
            counted = .allocate(capacity: n)
            counted.initialize(repeating: false)
            (means, logitGradients, rowGradients) = (zeros(n * width), zeros(n * classes), zeros(n * width))
            (soft, hard, softWeight, hardWeight, contribution) = (zeros(n), zeros(n), zeros(n), zeros(n), zeros(n))
        }

        deinit {
            features.deinitialize().deallocate()
            counted.deallocate()
            for b in [means, logitGradients, rowGradients, soft, hard, softWeight, hardWeight, contribution] { b.deallocate() }
        }
    }

    /// Every example of `batch` (indices into ``examples``) at the current weights, in parallel: the workers take the
    /// next example as they finish one. `sideTask`, when given, runs first on one worker while the others start.
    private func forward(_ batch: [Int], loss: Loss, alongside sideTask: (() -> Void)? = nil) -> Slots {
        let slots = Slots(count: batch.count, width: width, classes: classes)
        let workers = max(1, min(ComputeThreads.count, batch.count))
        let next = ExampleCounter()
        forEachWorker(workers) { w in
            if w == 0 { sideTask?() }
            var scratch = NGramFeaturizer.Scratch()
            while case let s = next.take(), s < batch.count {
                example(batch[s], into: s, of: slots, scratch: &scratch, loss: loss)
            }
        }
        return slots
    }

    /// Hands out a batch's examples to the workers one at a time.
    private final class ExampleCounter: Sendable {
        private let next = Atomic<Int>(0)
        func take() -> Int { next.wrappingAdd(1, ordering: .relaxed).oldValue }
    }

    /// A value one worker writes while the others run, read after they all finish.
    private final class Box<T>: @unchecked Sendable {
        var value: T
        init(_ value: T) { self.value = value }
    }

    /// One example into slot `s`: disjoint elements of the slots' arrays, so workers never share one.
    private func example(_ i: Int, into s: Int, of slots: Slots, scratch: inout NGramFeaturizer.Scratch, loss: Loss) {
        let e = examples[i]
        let ids = features(i, scratch: &scratch)
        let (d, k) = (width, classes)
        let table = model.embeddings.weight.storage.pointer
        let w = model.classifier.weight.storage.pointer, b = model.classifier.bias!.storage.pointer
        // The rows an example without a target read are still read (as on the tape, lazy Adam updates them with a zero gradient).
        slots.features[s] = ids
        let hasSoft = e.teacher != nil, hasHard = e.label != nil
        guard hasSoft || hasHard else { return }
        let mean = slots.means.baseAddress! + s * d
        ids.withUnsafeBufferPointer { addRows(table, $0, width: d, into: mean) }
        if !ids.isEmpty {
            let inverse = 1 / Float(ids.count)
            for j in 0..<d { mean[j] *= inverse }
        }
        // Logits, their gradient and two log-softmax rows on the stack: no allocation per example.
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 4 * k) { scratch in
            let logits = scratch.baseAddress!, gradient = logits + k, student = logits + 2 * k, target = logits + 3 * k
            for c in 0..<k {
                var z = b[c]
                for j in 0..<d { z += w[c * d + j] * mean[j] }
                logits[c] = z
                gradient[c] = 0
            }
            let (softShare, hardShare): (Float, Float) = hasSoft && hasHard ? (loss.alpha, 1 - loss.alpha) : (hasSoft ? 1 : 0, hasHard ? 1 : 0)
            var softLoss: Float = 0, hardLoss: Float = 0, contribution: Float = 0
            if let teacher = e.teacher {
                // T²·KL(p_t^T ‖ softmax(z/T)): gradient T·(softmax(z/T) − p_t^T), p_t^T = p_t^(1/T) renormalized.
                let t = loss.temperature
                for c in 0..<k { student[c] = logits[c] / t }
                Self.logSoftmax(student, k)
                for c in 0..<k { target[c] = teacher[c] > 0 ? Foundation.log(teacher[c]) / t : -.infinity }
                Self.logSoftmax(target, k)
                var kl: Float = 0
                for c in 0..<k {
                    let p = target[c] > -.infinity ? Foundation.exp(target[c]) : 0
                    if p > 0 { kl += p * (target[c] - student[c]) }
                    gradient[c] += softShare * e.weight * t * (Foundation.exp(student[c]) - p)
                }
                softLoss = e.weight * t * t * kl
                contribution += softShare * softLoss
            }
            if let y = e.label {
                // (1−ε)·w_y·(−log p_y) + (ε/C)·Σ_c w_c·(−log p_c), as softmaxCrossEntropy.
                let logp = student
                for c in 0..<k { logp[c] = logits[c] }
                Self.logSoftmax(logp, k)
                let cw = loss.classWeights
                func weight(_ c: Int) -> Float { cw?[c] ?? 1 }
                let eps = loss.labelSmoothing
                var weightSum: Float = 0
                for c in 0..<k { weightSum += weight(c) }
                var value = (1 - eps) * weight(y) * -logp[y]
                if eps > 0 { for c in 0..<k { value -= eps / Float(k) * weight(c) * logp[c] } }
                for c in 0..<k {
                    let p = Foundation.exp(logp[c])
                    var g = (1 - eps) * weight(y) * (p - (c == y ? 1 : 0))
                    if eps > 0 { g += eps / Float(k) * (weightSum * p - weight(c)) }
                    gradient[c] += hardShare * e.weight * g
                }
                hardLoss = e.weight * value
                contribution += hardShare * hardLoss
            }
            slots.soft[s] = softLoss
            slots.hard[s] = hardLoss
            slots.contribution[s] = contribution
            for c in 0..<k { slots.logitGradients[s * k + c] = gradient[c] }
            let row = slots.rowGradients.baseAddress! + s * d
            for c in 0..<k where gradient[c] != 0 { simdAxpy(row, gradient[c], w + c * d, d) }
        }
        slots.counted[s] = true
        slots.softWeight[s] = hasSoft ? e.weight : 0
        slots.hardWeight[s] = hasHard ? e.weight : 0
    }

    /// The loss's normalizer (the divisor of the slots' summed gradients), the number of examples with a target and
    /// the batch's loss values; nil when no example has a target.
    private func summary(_ slots: Slots, _ batch: [Int], meanWeight: Float?) -> (total: Float, counted: Int, value: Value)? {
        let counted = batch.indices.filter { slots.counted[$0] }
        guard !counted.isEmpty else { return nil }
        let total = meanWeight.map { Float(counted.count) * $0 } ?? counted.reduce(Float(0)) { $0 + examples[batch[$1]].weight }
        let softWeight = slots.softWeight.reduce(0, +), hardWeight = slots.hardWeight.reduce(0, +)
        return (total, counted.count, (slots.contribution.reduce(0, +) / total, softWeight > 0 ? slots.soft.reduce(0, +) / softWeight : 0,
                        hardWeight > 0 ? slots.hard.reduce(0, +) / hardWeight : 0))
    }

    /// fastText's SGD on one batch: each example moves the weights by `learningRate ×` its gradient (the batch's
    /// loss gradient times the number of examples with a target), all computed at the batch's starting weights and
    /// applied in example order, with no clipping or weight decay. Returns the batch's loss.
    func sgd(_ batch: [Int], learningRate: Float, loss: Loss) -> Value {
        let slots = forward(batch, loss: loss)
        guard let (total, counted, value) = summary(slots, batch, meanWeight: loss.meanWeight) else { return (0, 0, 0) }
        let scale = learningRate * Float(counted) / total
        let (d, k) = (width, classes)
        let table = model.embeddings.weight.storage.pointer
        let w = model.classifier.weight.storage.pointer, b = model.classifier.bias!.storage.pointer
        // Frozen parameters stay as they are, as with the tape.
        let (tableMoves, weightMoves, biasMoves) = (model.embeddings.weight.requiresGrad, model.classifier.weight.requiresGrad,
                                                    model.classifier.bias!.requiresGrad)
        for s in batch.indices where slots.counted[s] {
            for c in 0..<k {
                let g = scale * slots.logitGradients[s * k + c]
                if biasMoves { b[c] -= g }
                if weightMoves { for j in 0..<d { w[c * d + j] -= g * slots.means[s * d + j] } }
            }
            let ids = slots.features[s]
            guard tableMoves, !ids.isEmpty else { continue }
            let f = scale / Float(ids.count)
            let g = slots.rowGradients.baseAddress! + s * d
            for id in ids { simdAxpy(table + Int(id) * d, -f, g, d) }
        }
        return value
    }

    /// The rows a batch read and, grouped by row, the examples that read them: what collecting the rows' gradient
    /// needs. It depends on the batch's features only, not on the weights, so it is built while the forward pass runs.
    private struct ReadRows {
        /// The rows read, ascending (a row-sparse gradient's order).
        var rows: [Int] = []
        /// Row `slot`'s entries are `entries[firstEntry[slot]..<firstEntry[slot + 1]]`: batch positions of the examples
        /// with a target that read it, in example order, once per time they read it.
        var firstEntry: [Int32] = []
        var entries: [Int32] = []
    }

    /// ``ReadRows`` for a batch's features (`hasTarget`: which examples have a gold label or a teacher distribution):
    /// the rows come out ascending from a bitmap of the table's rows (read back and cleared
    /// word by word, no sort), each given its slot; a counting sort groups the positions by slot.
    private func readRows(_ features: [[Int32]], hasTarget: [Bool]) -> ReadRows {
        var out = ReadRows()
        var positions = 0
        for ids in features {
            positions += ids.count
            for id in ids { rowBits[Int(id) >> 6] |= 1 << UInt64(id & 63) }
        }
        out.rows.reserveCapacity(positions)
        for word in rowBits.indices where rowBits[word] != 0 {
            var bits = rowBits[word]
            rowBits[word] = 0
            while bits != 0 {
                let row = word << 6 | bits.trailingZeroBitCount
                slotOf[row] = Int32(out.rows.count)
                out.rows.append(row)
                bits &= bits - 1
            }
        }
        var firstEntry = [Int32](repeating: 0, count: out.rows.count + 1)
        // Each position's slot, looked up once (a random read of `slotOf`) and read back in order.
        var positionSlots = [Int32](repeating: 0, count: positions)
        firstEntry.withUnsafeMutableBufferPointer { firstEntry in
            positionSlots.withUnsafeMutableBufferPointer { positionSlots in
                var p = 0
                for (s, ids) in features.enumerated() where hasTarget[s] {
                    for id in ids {
                        let slot = slotOf[Int(id)]
                        positionSlots[p] = slot
                        p += 1
                        firstEntry[Int(slot) + 1] += 1
                    }
                }
                for slot in 0..<(firstEntry.count - 1) { firstEntry[slot + 1] += firstEntry[slot] }
                var entries = [Int32](repeating: 0, count: Int(firstEntry[firstEntry.count - 1]))
                var next = Array(firstEntry.dropLast())
                entries.withUnsafeMutableBufferPointer { entries in
                    next.withUnsafeMutableBufferPointer { next in
                        p = 0
                        for (s, ids) in features.enumerated() where hasTarget[s] {
                            for _ in ids {
                                let slot = Int(positionSlots[p]), at = next[slot]
                                p += 1
                                entries[Int(at)] = Int32(s)
                                next[slot] = at + 1
                            }
                        }
                    }
                }
                out.entries = entries
            }
        }
        out.firstEntry = firstEntry
        return out
    }

    /// The gradient of the batch's loss: dense for the classifier, the rows the batch read for the embedding table
    /// (``RowSparseGradient``), ready for ``AdamW/update(_:gradients:)``. Returns the batch's loss with it.
    func gradients(_ batch: [Int], loss: Loss) -> (value: Value, gradients: Gradients) {
        let hasTarget = batch.map { examples[$0].teacher != nil || examples[$0].label != nil }
        let slots: Slots, read: ReadRows
        if batch.allSatisfy({ cachedFeatures[$0] != nil }) {
            // The rows read depend on the features only: found by one worker while the others start the forward pass.
            let found = Box(ReadRows())
            slots = forward(batch, loss: loss) { found.value = self.readRows(batch.map { self.cachedFeatures[$0]! }, hasTarget: hasTarget) }
            read = found.value
        } else {
            slots = forward(batch, loss: loss)
            read = readRows(Array(slots.features), hasTarget: hasTarget)
        }
        guard let (total, _, value) = summary(slots, batch, meanWeight: loss.meanWeight) else { return ((0, 0, 0), Gradients()) }
        let (d, k) = (width, classes)
        let inverseTotal = 1 / total
        let weight = Tensor(zeros: model.classifier.weight.shape), bias = Tensor(zeros: [k])
        let pw = weight.storage.pointer, pb = bias.storage.pointer
        for s in batch.indices where slots.counted[s] {
            for c in 0..<k {
                let g = slots.logitGradients[s * k + c] * inverseTotal
                pb[c] += g
                for j in 0..<d { pw[c * d + j] += g * slots.means[s * d + j] }
            }
        }
        // Each row's gradient: the mean row's gradient of every example that read it, divided by the example's row
        // count, summed in example order (the same sums with any thread count).
        let (rows, firstEntry, entries) = (read.rows, read.firstEntry, read.entries)
        let factor = slots.features.map { $0.isEmpty ? 0 : inverseTotal / Float($0.count) }
        let values = Tensor(uninitializedShape: [rows.count, d])
        let pv = values.storage.pointer, rowGradients = slots.rowGradients.baseAddress!
        let workers = min(ComputeThreads.count, max(1, rows.count / 256))
        firstEntry.withUnsafeBufferPointer { firstEntry in
            entries.withUnsafeBufferPointer { entries in
                factor.withUnsafeBufferPointer { factor in
                    let shared = UnsafeSendable((firstEntry, entries, factor))
                    parallelFor(rows.count, grain: (rows.count + workers - 1) / workers) { owned in
                        let (firstEntry, entries, factor) = shared.value
                        for slot in owned {
                            let first = Int(firstEntry[slot])
                            distill_weighted_row_sum(pv + slot * d, rowGradients, d, entries.baseAddress! + first, factor.baseAddress!,
                                                     Int(firstEntry[slot + 1]) - first, d)
                        }
                    }
                }
            }
        }
        var out = Gradients()
        let table = model.embeddings.weight
        // Frozen parameters get no gradient, as on the tape.
        if table.requiresGrad { out.set(table, .rows(RowSparseGradient(shape: table.shape, rows: rows, values: values))) }
        if model.classifier.weight.requiresGrad { out.set(model.classifier.weight, .dense(weight)) }
        if model.classifier.bias!.requiresGrad { out.set(model.classifier.bias!, .dense(bias)) }
        return (value, out)
    }

    /// `x[0..<n]` replaced by its log-softmax (entries of −∞ stay −∞ and add nothing).
    private static func logSoftmax(_ x: UnsafeMutablePointer<Float>, _ n: Int) {
        var m = x[0]
        for c in 1..<max(n, 1) where x[c] > m { m = x[c] }
        var sum: Float = 0
        for c in 0..<n where x[c] > -.infinity { sum += Foundation.exp(x[c] - m) }
        let lse = m + Foundation.log(sum)
        for c in 0..<n { x[c] -= lse }
    }
}
