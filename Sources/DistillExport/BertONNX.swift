import DistillCore
import DistillNN
import DistillRuntime
import ONNXProto

/// A BERT classifier as an ONNX graph (opset 17): `input_ids` and `attention_mask` (int64 `[batch, sequence]`) in,
/// `logits` and `probabilities` (float `[batch, labels]`) out — the computation of ``BertForSequenceClassification``
/// in inference mode: embeddings (token type 0) → LayerNorm → encoder layers (attention with the mask as an additive
/// bias, exact GELU or ReLU) → the model's pooling (mean over the mask, `[CLS]`, or the tanh pooler) → classifier.
/// `probabilities` divides the logits by the decision rule's temperature (1 without one) before the softmax, as
/// `distill classify` does.
enum BertONNX {
    static func graph(_ model: BertForSequenceClassification, temperature: Float) throws -> ONNXGraphBuilder {
        let c = model.config
        let w = model.stateDict()
        var g = ONNXGraphBuilder(name: "distill_bert_classifier")
        let batch = ONNXGraphBuilder.Dimension.named("batch"), sequence = ONNXGraphBuilder.Dimension.named("sequence")
        let ids = g.input("input_ids", .int64, [batch, sequence])
        let mask = g.input("attention_mask", .int64, [batch, sequence])
        let h = c.hiddenSize, heads = c.numAttentionHeads, d = h / heads

        // Embeddings: word + position (the first `sequence` rows) + token type 0.
        let word = g.node("Gather", [g.weight("bert.embeddings.word_embeddings.weight", try ONNXGraphBuilder.tensor(w, "bert.embeddings.word_embeddings.weight")), ids],
                          [.int("axis", 0)], hint: "word_embeddings")
        let shape = g.node("Shape", [ids], hint: "ids_shape")
        let length = g.node("Slice", [shape, g.constant([1], "one"), g.constant([2], "two")], hint: "sequence_length")
        let positions = g.node("Slice", [g.weight("bert.embeddings.position_embeddings.weight", try ONNXGraphBuilder.tensor(w, "bert.embeddings.position_embeddings.weight")),
                                         g.constant([0], "zero"), length, g.constant([0], "axis0")], hint: "position_embeddings")
        let types = try ONNXGraphBuilder.tensor(w, "bert.embeddings.token_type_embeddings.weight")
        let typeZero = g.weight("bert.embeddings.token_type_embeddings.row0", Array(types.scalars[0..<h]), shape: [h])
        var x = g.node("Add", [g.node("Add", [word, positions]), typeZero], hint: "embeddings")
        x = try g.layerNorm(x, "bert.embeddings.LayerNorm", epsilon: c.layerNormEps, w)

        // The mask as an additive bias [batch, 1, 1, sequence]: 0 where attended (any nonzero mask value, as in
        // Distill), -1e9 where padded (exp underflows to 0 in the softmax, as Distill's -greatestFiniteMagnitude).
        let float = Int64(ONNXGraphBuilder.ElementType.float.rawValue)
        let maskFloat = g.node("Cast", [g.node("Not", [g.node("Equal", [mask, g.constant([0], "zero_i", scalar: true)])])], [.int("to", float)], hint: "mask_float")
        let padded = g.node("Cast", [g.node("Equal", [mask, g.constant([0], "zero_i", scalar: true)])], [.int("to", float)], hint: "padded")
        let bias = g.node("Unsqueeze", [g.node("Mul", [padded, g.constant(-1e9, "minus_large")]), g.constant([1, 2], "axes12")], hint: "attention_bias")
        let headShape = g.constant([0, 0, Int64(heads), Int64(d)], "head_shape")
        let mergedShape = g.constant([0, 0, Int64(h)], "merged_shape")
        let scale = g.constant(1 / Float(d).squareRoot(), "attention_scale")

        for i in 0..<c.numHiddenLayers {
            let p = "bert.encoder.layer.\(i)."
            func split(_ v: String, _ perm: [Int64], _ hint: String) -> String {
                g.node("Transpose", [g.node("Reshape", [v, headShape], hint: hint)], [.ints("perm", perm)], hint: hint)
            }
            let q = split(try g.linear(x, p + "attention.self.query", w), [0, 2, 1, 3], "query_heads")
            let k = split(try g.linear(x, p + "attention.self.key", w), [0, 2, 3, 1], "key_heads_t")
            let v = split(try g.linear(x, p + "attention.self.value", w), [0, 2, 1, 3], "value_heads")
            let scores = g.node("Add", [g.node("Mul", [g.node("MatMul", [q, k]), scale]), bias], hint: "scores")
            let probabilities = g.node("Softmax", [scores], [.int("axis", -1)], hint: "attention_probs")
            let context = g.node("Reshape", [g.node("Transpose", [g.node("MatMul", [probabilities, v])], [.ints("perm", [0, 2, 1, 3])]), mergedShape], hint: "context")
            let attention = try g.layerNorm(g.node("Add", [try g.linear(context, p + "attention.output.dense", w), x]), p + "attention.output.LayerNorm",
                                            epsilon: c.layerNormEps, w)
            let inner = try g.linear(attention, p + "intermediate.dense", w)
            let activated: String
            if c.hiddenAct == .relu {
                activated = g.node("Relu", [inner])
            } else {  // exact GELU: 0.5 x (1 + erf(x / √2))
                let erf = g.node("Erf", [g.node("Mul", [inner, g.constant(Float(1 / 2.0.squareRoot()), "inv_sqrt2")])])
                activated = g.node("Mul", [g.node("Mul", [inner, g.constant(0.5, "half")]), g.node("Add", [erf, g.constant(1, "one_f")])], hint: "gelu")
            }
            x = try g.layerNorm(g.node("Add", [try g.linear(activated, p + "output.dense", w), attention]), p + "output.LayerNorm", epsilon: c.layerNormEps, w)
        }

        let pooled: String
        switch model.pooling {
        case .mean:
            let m = g.node("Unsqueeze", [maskFloat, g.constant([2], "axis2")], hint: "mask_column")
            let sum = g.node("ReduceSum", [g.node("Mul", [x, m]), g.constant([1], "axis1")], [.int("keepdims", 0)], hint: "masked_sum")
            let count = g.node("Max", [g.node("ReduceSum", [m, g.constant([1], "axis1")], [.int("keepdims", 0)]), g.constant(1, "one_f")], hint: "mask_count")
            pooled = g.node("Div", [sum, count], hint: "mean_pooled")
        case .cls:
            pooled = g.node("Gather", [x, g.constant([0], "cls_index", scalar: true)], [.int("axis", 1)], hint: "cls")
        case .pooler:
            let cls = g.node("Gather", [x, g.constant([0], "cls_index", scalar: true)], [.int("axis", 1)], hint: "cls")
            pooled = g.node("Tanh", [try g.linear(cls, "bert.pooler.dense", w)], hint: "pooler")
        }
        let logits = try g.linear(pooled, "classifier", w)
        let labels = ONNXGraphBuilder.Dimension.fixed(model.numberOfLabels)
        g.output(logits, as: "logits", .float, [batch, labels])
        let tempered = temperature == 1 ? logits : g.node("Div", [logits, g.constant(temperature, "temperature")], hint: "tempered")
        g.output(g.node("Softmax", [tempered], [.int("axis", -1)], hint: "softmax"), as: "probabilities", .float, [batch, labels])
        return g
    }
}
