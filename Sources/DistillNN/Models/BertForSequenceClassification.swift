import DistillCore
import DistillText

/// A BERT encoder with a classification head (HF `BertForSequenceClassification`): pooled vector →
/// dropout → `classifier` linear layer. Parameter names: `bert.…` and `classifier.weight`/`classifier.bias`.
public final class BertForSequenceClassification: Module {
    public private(set) var config: BertConfig
    /// How raw lines become model text (saved as `distill_input`).
    public var input: TextInput? {
        get { config.distillInput }
        set { config.distillInput = newValue }
    }
    public let bert: BertModel
    public let classifier: Linear
    /// `.pooler` uses HF's `tanh(dense([CLS]))`; `.cls` and `.mean` skip the pooler layer.
    public let pooling: Pooling

    /// A randomly initialized model with `config.labels.count` outputs (2 when no labels are given); with
    /// `seed` nil the encoder is zero-filled for a loader to overwrite (the head is still initialized).
    public init(config: BertConfig, seed: UInt64? = 0) {
        self.config = config
        pooling = config.distillPooling ?? .pooler
        bert = BertModel(config: config, withPooler: pooling == .pooler, seed: seed)
        var g = RandomGenerator(seed: (seed ?? 0) &+ 0x5eed)
        classifier = Linear(inputSize: config.hiddenSize, outputSize: config.labels?.count ?? 2, std: config.initializerRange, generator: &g)
    }

    public var children: [(String, ModuleChild)] { [("bert", .module(bert)), ("classifier", .module(classifier))] }

    public var numberOfLabels: Int { classifier.outputSize }

    /// Class logits `[B, numberOfLabels]`, plus the encoder output for distillation losses.
    public func callAsFunction(_ batch: EncodedBatch, outputHiddenStates: Bool = false, outputAttentions: Bool = false,
                               outputValues: Bool = false, context: ForwardContext = .inference) -> (logits: Tensor, encoder: BertOutput) {
        let out = bert(batch, outputHiddenStates: outputHiddenStates, outputAttentions: outputAttentions, outputValues: outputValues, context: context)
        let pooled = bert.pool(out.lastHiddenState, attentionMask: batch.attentionMask, pooling: pooling)
        return (classifier(context.dropout(pooled, config.hiddenDropoutProb)), out)
    }
}
