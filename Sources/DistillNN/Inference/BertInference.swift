import DistillCore
import Synchronization

/// The inference path of a BERT encoder (with or without its classification head): no autodiff tape, no
/// tensors, no padding. Sequences are packed back to back into tiles of up to ``tileTokens`` tokens; each
/// layer is one GEMM for Q, K and V together, fused attention per sequence (``fusedSelfAttention``), and
/// GEMMs with bias, residual, GELU and LayerNorm fused into the row passes after them. Every worker thread
/// owns an ``InferenceWorkspace``, so once batches stop growing a call allocates nothing but its result.
///
/// Reads the module's weight tensors in place (Q/K/V are packed into one matrix per layer, the only copy).
/// Calls are serialized internally; each uses up to ``ComputeThreads/count`` threads.
public final class BertInference: @unchecked Sendable {
    struct Layer {
        let qkvWeight: [Float], qkvBias: [Float]
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
    private let pooling: String
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

    /// The engine of an encoder alone (`pooling`: "cls", "mean" or "pooler").
    public init(encoder: BertModel, pooling: String = "mean", classifier: Linear? = nil, tileTokens: Int = 512) {
        config = encoder.config
        embeddings = encoder.embeddings
        self.pooling = pooling
        pooler = pooling == "pooler" ? encoder.pooler : nil
        precondition(pooling != "pooler" || encoder.pooler != nil, "BertInference: pooling 'pooler' needs the pooler weights")
        self.classifier = classifier
        self.tileTokens = max(1, tileTokens)
        layers = encoder.layers.items.map { l in
            let a = l.attention
            return Layer(qkvWeight: a.query.weight.scalars + a.key.weight.scalars + a.value.weight.scalars,
                         qkvBias: (a.query.bias?.scalars ?? []) + (a.key.bias?.scalars ?? []) + (a.value.bias?.scalars ?? []),
                         attentionOutput: a.outputDense, attentionNorm: a.layerNorm,
                         intermediate: l.intermediate, output: l.output, outputNorm: l.outputLayerNorm, relu: l.activation == "relu")
        }
        for l in encoder.layers.items {
            let a = l.attention
            precondition(a.query.bias != nil && a.key.bias != nil && a.value.bias != nil, "BertInference: attention projections need biases")
        }
    }

    /// Workspace buffer slots.
    private enum Slot: Int, CaseIterable { case x, a, qkv, ctx, inter, scores, pooled, pooledTmp }

    /// Buffer (re)allocations made by all workspaces so far (flat once batch sizes repeat).
    public var workspaceGrowths: Int { lock.withLock { _ in workspaces.reduce(0) { $0 + $1.growths } } }

    /// Runs `count` sequences; `sequence(i)` gives sequence `i`'s token ids (called on worker threads, may
    /// tokenize). Writes `width(output, length)` floats per sequence through `write(i, values)`, where
    /// `values` is only valid during the call. Ids must be inside the vocabulary and sequences no longer than
    /// `max_position_embeddings` (the tokenizer guarantees both; violations trap).
    public func run(count: Int, output: Output, sequence: (Int) -> [Int], write: (Int, UnsafeBufferPointer<Float>) -> Void) {
        precondition(output != .logits || classifier != nil, "BertInference: logits need the classification head")
        guard count > 0 else { return }
        lock.withLock { _ in
            let workers = min(ComputeThreads.count, max(1, count / 4))
            while workspaces.count < workers { workspaces.append(InferenceWorkspace(slots: Slot.allCases.count)) }
            let spaces = workspaces
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
                    if !ws.starts.isEmpty && ws.ids.count + ids.count > tileTokens {
                        runTile(ws, first: first, output: output, write: write)
                        ws.ids.removeAll(keepingCapacity: true)
                        ws.starts.removeAll(keepingCapacity: true)
                        first = i
                    }
                    ws.starts.append(ws.ids.count)
                    ws.ids.append(contentsOf: ids)
                }
                if !ws.starts.isEmpty { runTile(ws, first: first, output: output, write: write) }
            }
        }
    }

    /// The forward pass of one tile: `ws.ids` holds its sequences back to back, starting at `ws.starts`.
    private func runTile(_ ws: InferenceWorkspace, first: Int, output: Output, write: (Int, UnsafeBufferPointer<Float>) -> Void) {
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
            layer.qkvWeight.withUnsafeBufferPointer { wq in
                BLAS.sgemmOnCurrentThread(transposeA: false, transposeB: true, m: t, n: 3 * h, k: h, a: x, lda: h, b: wq.baseAddress!, ldb: h, beta: 0, c: qkv, ldc: 3 * h)
            }
            layer.qkvBias.withUnsafeBufferPointer { RowKernels.addBias(qkv, rows: t, width: 3 * h, bias: $0.baseAddress!) }
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
            if let b = layer.intermediate.bias { RowKernels.addBiasActivation(inter, rows: t, width: i, bias: b.storage.pointer, relu: layer.relu) }
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
            if pooling == "mean" {
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
            if let b = pooler.bias { RowKernels.addBiasTanh(tmp, rows: n, width: h, bias: b.storage.pointer) }
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

    /// `out = x Wᵀ` for a Linear layer (bias added by the caller's fused row pass).
    private func dense(_ x: UnsafePointer<Float>, rows: Int, _ layer: Linear, into out: UnsafeMutablePointer<Float>) {
        BLAS.sgemmOnCurrentThread(transposeA: false, transposeB: true, m: rows, n: layer.outputSize, k: layer.inputSize,
                                  a: x, lda: layer.inputSize, b: layer.weight.storage.pointer, ldb: layer.inputSize, beta: 0, c: out, ldc: layer.outputSize)
    }
}
