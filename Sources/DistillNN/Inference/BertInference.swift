import DistillCore
import Synchronization

/// The inference path of a BERT encoder (with or without its classification head): no autodiff tape, no
/// tensors, no padding. Sequences are packed back to back into tiles of up to ``tileTokens`` tokens; each
/// layer is one GEMM for Q, K and V together, fused attention per sequence (``fusedSelfAttention``), and
/// GEMMs with bias, residual, GELU and LayerNorm fused into the row passes after them. Every worker thread
/// owns an ``InferenceWorkspace``, so once batches stop growing a call allocates nothing but its result.
///
/// Reads the module's weight tensors in place at every call (no copy: weights changed after the engine was built
/// are used). Calls are serialized internally; each uses up to ``ComputeThreads/count`` threads — across
/// sequences, or, when a call has too few sequences to split, inside each large GEMM.
public final class BertInference: @unchecked Sendable {
    struct Layer {
        let query: Linear, key: Linear, value: Linear
        let attentionOutput: Linear, attentionNorm: LayerNorm
        let intermediate: Linear, output: Linear, outputNorm: LayerNorm
        let relu: Bool
    }

    /// What a call computes per sequence.
    public enum Output: Sendable {
        /// Class logits (requires the classification head).
        case logits
        /// The pooled vector the head reads (`[CLS]`, mean or pooler output).
        case pooled
        /// The last layer's hidden state of every token.
        case lastHiddenState
    }

    private let config: BertConfig
    private let embeddings: BertEmbeddings
    private let layers: [Layer]
    private let pooling: Pooling
    private let pooler: Linear?
    private let classifier: Linear?
    private let lock = Mutex(())
    private var workspaces: [InferenceWorkspace] = []
    /// Most tokens per tile (a longer sequence gets a tile of its own).
    public let tileTokens: Int

    public var hiddenSize: Int { config.hiddenSize }
    /// Labels of the head (0 without one).
    public var labelCount: Int { classifier?.outputSize ?? 0 }

    /// The engine of a classifier: logits, or the pooled vector.
    public convenience init(_ model: BertForSequenceClassification, tileTokens: Int = 512) {
        self.init(encoder: model.bert, pooling: model.pooling, classifier: model.classifier, tileTokens: tileTokens)
    }

    /// The engine of an encoder alone (`.pooler` needs the encoder's pooler weights).
    public init(encoder: BertModel, pooling: Pooling = .mean, classifier: Linear? = nil, tileTokens: Int = 512) {
        config = encoder.config
        embeddings = encoder.embeddings
        self.pooling = pooling
        pooler = pooling == .pooler ? encoder.pooler : nil
        precondition(pooling != .pooler || encoder.pooler != nil, "BertInference: pooling 'pooler' needs the pooler weights")
        self.classifier = classifier
        self.tileTokens = max(1, tileTokens)
        layers = encoder.layers.items.map { l in
            let a = l.attention
            return Layer(query: a.query, key: a.key, value: a.value,
                         attentionOutput: a.outputDense, attentionNorm: a.layerNorm,
                         intermediate: l.intermediate, output: l.output, outputNorm: l.outputLayerNorm, relu: l.activation == .relu)
        }
    }

    /// Workspace buffer slots.
    private enum Slot: Int, CaseIterable { case x, a, qkv, ctx, inter, scores, pooled, pooledTmp }

    /// Buffer (re)allocations made by all workspaces so far (flat once batch sizes repeat).
    public var workspaceGrowths: Int { lock.withLock { _ in workspaces.reduce(0) { $0 + $1.growths } } }

    /// Runs `count` sequences; `sequence(i)` gives sequence `i`'s token ids (called on worker threads, may
    /// tokenize). Writes each sequence's values (logits, the pooled vector, or `length x hidden` hidden states)
    /// through `write(i, values)`, called from worker threads for distinct `i`; `values` is only valid during the
    /// call. Ids must be inside the vocabulary and sequences 1...`max_position_embeddings` long (a checked
    /// tokenizer guarantees both, see `checkVocabulary`; violations trap naming the sequence).
    public func run(count: Int, output: Output, sequence: (Int) -> [Int], write: (Int, UnsafeBufferPointer<Float>) -> Void) {
        precondition(output != .logits || classifier != nil, "BertInference: logits need the classification head")
        guard count > 0 else { return }
        lock.withLock { _ in
            let workers = min(ComputeThreads.count, max(1, count / 4))
            while workspaces.count < workers { workspaces.append(InferenceWorkspace(slots: Slot.allCases.count)) }
            let spaces = workspaces
            // Too few sequences to give every thread some: each large GEMM is split over the threads instead
            // (also with one thread, so that the blocks, and so the bits, do not depend on the thread count).
            let splitGemms = workers == 1
            forEachWorker(workers) { w in
                let lo = count * w / workers, hi = count * (w + 1) / workers
                let ws = spaces[w]
                ws.ids.removeAll(keepingCapacity: true)
                ws.starts.removeAll(keepingCapacity: true)
                var first = lo
                for i in lo..<hi {
                    let ids = sequence(i)
                    precondition(!ids.isEmpty && ids.count <= config.maxPositionEmbeddings,
                                 "BertInference: sequence \(i) has \(ids.count) tokens (1...\(config.maxPositionEmbeddings) allowed)")
                    precondition(ids.allSatisfy { $0 >= 0 && $0 < config.vocabSize },
                                 "BertInference: sequence \(i) has a token id outside the vocabulary (0..<\(config.vocabSize))")
                    if !ws.starts.isEmpty && ws.ids.count + ids.count > tileTokens {
                        runTile(ws, first: first, output: output, splitGemms: splitGemms, write: write)
                        ws.ids.removeAll(keepingCapacity: true)
                        ws.starts.removeAll(keepingCapacity: true)
                        first = i
                    }
                    ws.starts.append(ws.ids.count)
                    ws.ids.append(contentsOf: ids)
                }
                if !ws.starts.isEmpty { runTile(ws, first: first, output: output, splitGemms: splitGemms, write: write) }
            }
        }
    }

    /// The forward pass of one tile: `ws.ids` holds its sequences back to back, starting at `ws.starts`.
    private func runTile(_ ws: InferenceWorkspace, first: Int, output: Output, splitGemms: Bool, write: (Int, UnsafeBufferPointer<Float>) -> Void) {
        /// `out = x Wᵀ` for a Linear layer into rows `ldc` apart (bias added by the fused row pass after it).
        func dense(_ x: UnsafePointer<Float>, rows: Int, _ layer: Linear, into out: UnsafeMutablePointer<Float>, ldc: Int? = nil) {
            let (k, n) = (layer.inputSize, layer.outputSize)
            if splitGemms {
                BLAS.sgemm(transposeA: false, transposeB: true, m: rows, n: n, k: k, a: x, lda: k, b: layer.weight.storage.pointer, ldb: k,
                           beta: 0, c: out, ldc: ldc ?? n)
            } else {
                BLAS.sgemmOnCurrentThread(transposeA: false, transposeB: true, m: rows, n: n, k: k, a: x, lda: k,
                                          b: layer.weight.storage.pointer, ldb: k, beta: 0, c: out, ldc: ldc ?? n)
            }
        }
        let h = config.hiddenSize, heads = config.numAttentionHeads, d = h / heads
        let t = ws.ids.count, n = ws.starts.count
        let inner = layers.first?.intermediate.outputSize ?? 0
        let x = ws.floats(Slot.x.rawValue, count: t * h), a = ws.floats(Slot.a.rawValue, count: t * h)
        let qkv = ws.floats(Slot.qkv.rawValue, count: t * 3 * h), ctx = ws.floats(Slot.ctx.rawValue, count: t * h)
        let inter = ws.floats(Slot.inter.rawValue, count: t * max(inner, 1))
        func length(_ s: Int) -> Int { (s + 1 < n ? ws.starts[s + 1] : t) - ws.starts[s] }
        var longest = 0
        for s in 0..<n { longest = max(longest, length(s)) }
        let scores = ws.floats(Slot.scores.rawValue, count: longest * longest)

        // Embeddings: word + position + token type 0, then LayerNorm.
        let word = embeddings.wordEmbeddings.weight.storage.pointer, position = embeddings.positionEmbeddings.weight.storage.pointer
        let type0 = embeddings.tokenTypeEmbeddings.weight.storage.pointer
        for s in 0..<n {
            let start = ws.starts[s]
            for p in 0..<length(s) {
                let row = x + (start + p) * h, w = word + ws.ids[start + p] * h, pos = position + p * h
                for j in 0..<h { row[j] = w[j] + type0[j] + pos[j] }
            }
        }
        let en = embeddings.layerNorm
        RowKernels.addBiasResidualLayerNorm(x, rows: t, width: h, bias: nil, residual: nil, gamma: en.weight.storage.pointer,
                                            beta: en.bias.storage.pointer, epsilon: en.epsilon)

        for layer in layers {
            // Q, K and V side by side in each row of `qkv` (what the attention kernel reads).
            func project(_ projection: Linear, part: Int) {
                dense(x, rows: t, projection, into: qkv + part * h, ldc: 3 * h)
                if let b = projection.bias?.storage.pointer { for r in 0..<t { let row = qkv + r * 3 * h + part * h; for j in 0..<h { row[j] += b[j] } } }
            }
            project(layer.query, part: 0)
            project(layer.key, part: 1)
            project(layer.value, part: 2)
            for s in 0..<n {
                let start = ws.starts[s]
                fusedSelfAttention(qkv: qkv + start * 3 * h, length: length(s), heads: heads, headWidth: d, scores: scores, out: ctx + start * h)
            }
            dense(ctx, rows: t, layer.attentionOutput, into: a)
            RowKernels.addBiasResidualLayerNorm(a, rows: t, width: h, bias: layer.attentionOutput.bias?.storage.pointer, residual: x,
                                                gamma: layer.attentionNorm.weight.storage.pointer, beta: layer.attentionNorm.bias.storage.pointer,
                                                epsilon: layer.attentionNorm.epsilon)
            let i = layer.intermediate.outputSize
            dense(a, rows: t, layer.intermediate, into: inter)
            let intermediateBias = layer.intermediate.bias?.storage.pointer
            if splitGemms {
                // GELU over a teacher's wide intermediate rows is worth the other threads too.
                parallelFor(t, grain: max(1, 16_384 / i)) { r in
                    RowKernels.addBiasActivation(inter + r.lowerBound * i, rows: r.count, width: i, bias: intermediateBias, relu: layer.relu)
                }
            } else {
                RowKernels.addBiasActivation(inter, rows: t, width: i, bias: intermediateBias, relu: layer.relu)
            }
            dense(inter, rows: t, layer.output, into: x)
            RowKernels.addBiasResidualLayerNorm(x, rows: t, width: h, bias: layer.output.bias?.storage.pointer, residual: a,
                                                gamma: layer.outputNorm.weight.storage.pointer, beta: layer.outputNorm.bias.storage.pointer,
                                                epsilon: layer.outputNorm.epsilon)
        }

        if output == .lastHiddenState {
            for s in 0..<n { write(first + s, UnsafeBufferPointer(start: x + ws.starts[s] * h, count: length(s) * h)) }
            return
        }
        let pooled = ws.floats(Slot.pooled.rawValue, count: n * h)
        for s in 0..<n {
            let row = pooled + s * h, start = x + ws.starts[s] * h
            if pooling == .mean {
                let len = length(s)
                for j in 0..<h { row[j] = 0 }
                for p in 0..<len { let r = start + p * h; for j in 0..<h { row[j] += r[j] } }
                let inv = 1 / Float(len)
                for j in 0..<h { row[j] *= inv }
            } else {
                row.update(from: start, count: h)
            }
        }
        var vector = pooled
        if let pooler {
            let tmp = ws.floats(Slot.pooledTmp.rawValue, count: n * h)
            dense(pooled, rows: n, pooler, into: tmp)
            RowKernels.addBiasTanh(tmp, rows: n, width: h, bias: pooler.bias?.storage.pointer)
            vector = tmp
        }
        if output == .pooled {
            for s in 0..<n { write(first + s, UnsafeBufferPointer(start: vector + s * h, count: h)) }
            return
        }
        let head = classifier!, labels = head.outputSize
        let logits = ws.floats(Slot.qkv.rawValue, count: n * labels)  // the Q/K/V buffer is free by now
        dense(vector, rows: n, head, into: logits)
        if let b = head.bias { RowKernels.addBias(logits, rows: n, width: labels, bias: b.storage.pointer) }
        for s in 0..<n { write(first + s, UnsafeBufferPointer(start: logits + s * labels, count: labels)) }
    }
}
