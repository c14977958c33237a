import DistillCore
import DistillText
import Synchronization

/// The inference path of the n-gram bag student: each text's features are hashed and their embedding rows
/// summed as they are produced (no feature list, no tensors), then the optional hidden layer and the
/// classifier run on the worker's own buffers. Texts are split over ``ComputeThreads/count`` workers (from 16
/// texts per worker); once warm, the float buffers do not grow (non-ASCII texts still build their feature list).
/// Reads the module's weights in place at every call.
public final class NGramBagInference: ClassifierEngine, @unchecked Sendable {
    private let model: NGramBag
    private let lock = Mutex(())
    private var scratches: [NGramFeaturizer.Scratch] = []
    private var workspaces: [InferenceWorkspace] = []

    public init(_ model: NGramBag) { self.model = model }

    public var labelCount: Int { model.classifier.outputSize }

    /// Buffer (re)allocations made by all workspaces so far.
    public var workspaceGrowths: Int { lock.withLock { _ in workspaces.reduce(0) { $0 + $1.growths } } }

    /// Logits of `count` texts; `text(i)` is called on worker threads, `write(i, logits)` too (for disjoint
    /// `i`; `logits` valid only during the call).
    public func logits(count: Int, text: (Int) -> String, write: (Int, UnsafeBufferPointer<Float>) -> Void) {
        guard count > 0 else { return }
        lock.withLock { _ in
            let workers = min(ComputeThreads.count, max(1, count / 16))
            while workspaces.count < workers {
                workspaces.append(InferenceWorkspace(slots: 3))
                scratches.append(NGramFeaturizer.Scratch())
            }
            let spaces = workspaces
            scratches.withUnsafeMutableBufferPointer { scratchBuffer in
                let scratch = UnsafeSendable(scratchBuffer)
                forEachWorker(workers) { w in
                    let lo = count * w / workers, hi = count * (w + 1) / workers
                    for i in lo..<hi { write(i, logits(text(i), workspace: spaces[w], scratch: &scratch.value[w])) }
                }
            }
        }
    }

    private func logits(_ text: String, workspace ws: InferenceWorkspace, scratch: inout NGramFeaturizer.Scratch) -> UnsafeBufferPointer<Float> {
        let e = model.config.embeddingSize
        let table = model.embeddings.weight.storage.pointer
        let bag = ws.floats(0, count: e)
        for j in 0..<e { bag[j] = 0 }
        var n = 0
        model.config.featurizer.forEachFeature(text, scratch: &scratch) { id in
            simdAxpy(bag, 1, table + id * e, e)
            n += 1
        }
        if n > 0 { let inv = 1 / Float(n); for j in 0..<e { bag[j] *= inv } }
        var x = UnsafePointer(bag), width = e
        if let hidden = model.hidden {
            let out = ws.floats(1, count: hidden.outputSize)
            matrixVector(hidden, x, out)
            for j in 0..<hidden.outputSize where out[j] < 0 { out[j] = 0 }
            x = UnsafePointer(out); width = hidden.outputSize
        }
        let c = model.classifier, labels = c.outputSize
        precondition(width == c.inputSize)
        let out = ws.floats(2, count: labels)
        matrixVector(c, x, out)
        return UnsafeBufferPointer(start: out, count: labels)
    }

    /// `out = W x + b` for one vector (too small for a GEMM call to pay).
    private func matrixVector(_ layer: Linear, _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>) {
        let w = layer.weight.storage.pointer, k = layer.inputSize
        let b = layer.bias?.storage.pointer
        for o in 0..<layer.outputSize { out[o] = simdDot(w + o * k, x, k) + (b?[o] ?? 0) }
    }
}
