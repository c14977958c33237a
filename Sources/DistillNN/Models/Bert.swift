import DistillCore
import DistillText

/// What a BERT encoder returns.
public struct BertOutput {
    /// `[B, S, H]` after the last layer.
    public var lastHiddenState: Tensor
    /// When requested: the embedding output then every layer's output (`L + 1` tensors of `[B, S, H]`),
    /// as Hugging Face's `output_hidden_states`.
    public var hiddenStates: [Tensor]
    /// When requested: every layer's attention probabilities `[B, heads, S, S]`.
    public var attentions: [Tensor]
    /// When requested: every layer's value vectors split by head, `[B, heads, S, head width]` (for MiniLM's
    /// value-relation distillation).
    public var values: [Tensor] = []
}

/// Word + position + token-type embeddings, then LayerNorm and dropout.
public final class BertEmbeddings: Module {
    public let wordEmbeddings: Embedding
    public let positionEmbeddings: Embedding
    public let tokenTypeEmbeddings: Embedding
    public let layerNorm: LayerNorm
    let dropout: Float

    init(_ c: BertConfig, generator g: inout RandomGenerator) {
        wordEmbeddings = Embedding(count: c.vocabSize, width: c.hiddenSize, std: c.initializerRange, generator: &g)
        positionEmbeddings = Embedding(count: c.maxPositionEmbeddings, width: c.hiddenSize, std: c.initializerRange, generator: &g)
        tokenTypeEmbeddings = Embedding(count: c.typeVocabSize, width: c.hiddenSize, std: c.initializerRange, generator: &g)
        layerNorm = LayerNorm(width: c.hiddenSize, epsilon: c.layerNormEps)
        dropout = c.hiddenDropoutProb
    }

    public var children: [(String, ModuleChild)] {
        [("word_embeddings", .module(wordEmbeddings)), ("position_embeddings", .module(positionEmbeddings)),
         ("token_type_embeddings", .module(tokenTypeEmbeddings)), ("LayerNorm", .module(layerNorm))]
    }

    func callAsFunction(_ batch: EncodedBatch, context: ForwardContext) -> Tensor {
        let (b, s) = (batch.batchSize, batch.sequenceLength)
        let words = wordEmbeddings(batch.inputIDs, shape: [b, s])
        let positions = positionEmbeddings(Array(0..<s), shape: [s])       // [S, H], broadcast over the batch
        let types = tokenTypeEmbeddings(batch.tokenTypeIDs, shape: [b, s])
        return context.dropout(layerNorm(words + types + positions), dropout)
    }
}

/// Multi-head self-attention with its output projection, residual and LayerNorm (HF `BertAttention`).
public final class BertAttention: Module {
    public let query, key, value, outputDense: Linear
    public let layerNorm: LayerNorm
    let heads: Int, attentionDropout: Float, hiddenDropout: Float

    init(_ c: BertConfig, generator g: inout RandomGenerator) {
        let h = c.hiddenSize, std = c.initializerRange
        query = Linear(inputSize: h, outputSize: h, std: std, generator: &g)
        key = Linear(inputSize: h, outputSize: h, std: std, generator: &g)
        value = Linear(inputSize: h, outputSize: h, std: std, generator: &g)
        outputDense = Linear(inputSize: h, outputSize: h, std: std, generator: &g)
        layerNorm = LayerNorm(width: h, epsilon: c.layerNormEps)
        heads = c.numAttentionHeads
        attentionDropout = c.attentionProbsDropoutProb
        hiddenDropout = c.hiddenDropoutProb
    }

    public var children: [(String, ModuleChild)] {
        [("self.query", .module(query)), ("self.key", .module(key)), ("self.value", .module(value)),
         ("output.dense", .module(outputDense)), ("output.LayerNorm", .module(layerNorm))]
    }

    func callAsFunction(_ x: Tensor, mask: Tensor, returnProbabilities: Bool, context: ForwardContext) -> (Tensor, Tensor?, Tensor) {
        let (b, s, h) = (x.shape[0], x.shape[1], x.shape[2])
        func split(_ t: Tensor) -> Tensor { permute(t.reshaped([b, s, heads, h / heads]), [0, 2, 1, 3]) }
        let p = context.isTraining ? attentionDropout : 0
        let values = split(value(x))
        let (ctx, probabilities) = scaledDotProductAttention(
            query: split(query(x)), key: split(key(x)), value: values, mask: mask,
            dropout: p, generator: &context.generator, returnProbabilities: returnProbabilities)
        let merged = permute(ctx, [0, 2, 1, 3]).reshaped([b, s, h])
        let out = layerNorm(context.dropout(outputDense(merged), hiddenDropout) + x)
        return (out, probabilities, values)
    }
}

/// One transformer layer: attention, then the GELU feed-forward block with residual and LayerNorm.
public final class BertLayer: Module {
    public let attention: BertAttention
    public let intermediate: Linear
    public let output: Linear
    public let outputLayerNorm: LayerNorm
    let activation: HiddenActivation, hiddenDropout: Float

    init(_ c: BertConfig, generator g: inout RandomGenerator) {
        attention = BertAttention(c, generator: &g)
        intermediate = Linear(inputSize: c.hiddenSize, outputSize: c.intermediateSize, std: c.initializerRange, generator: &g)
        output = Linear(inputSize: c.intermediateSize, outputSize: c.hiddenSize, std: c.initializerRange, generator: &g)
        outputLayerNorm = LayerNorm(width: c.hiddenSize, epsilon: c.layerNormEps)
        activation = c.hiddenAct
        hiddenDropout = c.hiddenDropoutProb
    }

    public var children: [(String, ModuleChild)] {
        [("attention", .module(attention)), ("intermediate.dense", .module(intermediate)),
         ("output.dense", .module(output)), ("output.LayerNorm", .module(outputLayerNorm))]
    }

    func callAsFunction(_ x: Tensor, mask: Tensor, returnProbabilities: Bool, context: ForwardContext) -> (Tensor, Tensor?, Tensor) {
        let (a, probabilities, values) = attention(x, mask: mask, returnProbabilities: returnProbabilities, context: context)
        let pre = intermediate(a)
        let hidden: Tensor
        switch activation {
        case .gelu: hidden = gelu(pre)
        case .relu: hidden = relu(pre)
        }
        return (outputLayerNorm(context.dropout(output(hidden), hiddenDropout) + a), probabilities, values)
    }
}

/// The BERT encoder (HF `BertModel`): embeddings, `L` layers and, optionally, the pooler
/// (`tanh(dense([CLS]))`). Parameter names match Hugging Face checkpoints.
public final class BertModel: Module {
    public let config: BertConfig
    public let embeddings: BertEmbeddings
    public let layers: ModuleList<BertLayer>
    public let pooler: Linear?

    /// A randomly initialized encoder (N(0, initializer_range²) weights, as BERT does). With `seed` nil the
    /// weights are left at zero, for loaders that overwrite every tensor anyway.
    public init(config: BertConfig, withPooler: Bool = true, seed: UInt64? = 0) {
        var g = RandomGenerator(seed: seed ?? 0)
        self.config = config
        var config = config
        if seed == nil { config.initializerRange = 0 }  // zero-filled, no random draws
        embeddings = BertEmbeddings(config, generator: &g)
        layers = ModuleList((0..<config.numHiddenLayers).map { _ in BertLayer(config, generator: &g) })
        pooler = withPooler ? Linear(inputSize: config.hiddenSize, outputSize: config.hiddenSize, std: config.initializerRange, generator: &g) : nil
    }

    public var children: [(String, ModuleChild)] {
        [("embeddings", .module(embeddings)), ("encoder.layer", .module(layers))]
            + (pooler.map { [("pooler.dense", .module($0))] } ?? [])
    }

    /// Runs the encoder. Traps if a batch is longer than `max_position_embeddings` or an id is outside the
    /// vocabulary: the tokenizer's truncation and vocabulary guarantee both.
    public func callAsFunction(_ batch: EncodedBatch, outputHiddenStates: Bool = false, outputAttentions: Bool = false,
                               outputValues: Bool = false, context: ForwardContext = .inference) -> BertOutput {
        precondition(batch.sequenceLength <= config.maxPositionEmbeddings,
                     "BertModel: sequence length \(batch.sequenceLength) exceeds max_position_embeddings \(config.maxPositionEmbeddings)")
        let pad = Tensor(shape: [batch.batchSize, batch.sequenceLength], scalars: batch.attentionMask.map { Float($0) })
        let mask = additiveAttentionMask(paddingMask: pad)
        var x = embeddings(batch, context: context)
        var hidden = outputHiddenStates ? [x] : []
        var attentions: [Tensor] = [], values: [Tensor] = []
        for layer in layers.items {
            let (y, p, v) = layer(x, mask: mask, returnProbabilities: outputAttentions, context: context)
            x = y
            if outputHiddenStates { hidden.append(x) }
            if let p { attentions.append(p) }
            if outputValues { values.append(v) }
        }
        return BertOutput(lastHiddenState: x, hiddenStates: hidden, attentions: attentions, values: values)
    }

    /// HF's pooler output `tanh(dense(h[:, 0]))`, `[B, H]`. Requires the pooler.
    public func poolerOutput(_ hidden: Tensor) -> Tensor {
        guard let pooler else { preconditionFailure("BertModel: this model has no pooler weights") }
        return tanh(pooler(clsToken(hidden)))
    }
}

/// How a sequence of hidden states becomes one vector (`distill_pooling` in a model's config.json).
public enum Pooling: String, Sendable, CaseIterable, Codable {
    /// The first ([CLS]) token's hidden state.
    case cls
    /// Mean over real (non-padding) tokens, as sentence-transformers does.
    case mean
    /// Hugging Face's pooler, `tanh(dense([CLS]))`: needs the encoder's pooler weights.
    case pooler
}

/// `h[:, 0, :]` → `[B, H]`.
public func clsToken(_ hidden: Tensor) -> Tensor {
    slice(hidden, axis: 1, 0..<1).reshaped([hidden.shape[0], hidden.shape[2]])
}

extension BertModel {
    /// Pools this encoder's `[B, S, H]` hidden states to `[B, H]`, using the batch's attention mask for `.mean`;
    /// `.pooler` requires ``pooler`` (check it before offering that choice).
    public func pool(_ hidden: Tensor, attentionMask: [Int], pooling: Pooling) -> Tensor {
        switch pooling {
        case .pooler:
            return poolerOutput(hidden)
        case .cls:
            return clsToken(hidden)
        case .mean:
            return meanPool(hidden, attentionMask: attentionMask)
        }
    }
}

/// The mean of `[B, S, H]` hidden states over each sequence's real tokens (the attention mask), `[B, H]`.
public func meanPool(_ hidden: Tensor, attentionMask: [Int]) -> Tensor {
    let (b, s) = (hidden.shape[0], hidden.shape[1])
    let mask = Tensor(shape: [b, s, 1], scalars: attentionMask.map { Float($0) })
    var counts = [Float](repeating: 0, count: b)
    for i in 0..<b { counts[i] = max(1e-9, Float(attentionMask[(i * s)..<((i + 1) * s)].reduce(0, +))) }
    return sum(hidden * mask, axes: [1]) / Tensor(shape: [b, 1], scalars: counts)
}
