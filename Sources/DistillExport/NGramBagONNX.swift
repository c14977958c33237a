import DistillCore
import DistillNN
import DistillRuntime
import ONNXProto

/// The n-gram bag as its embedding-bag graph (opset 17): `feature_ids` (int64 `[batch, features]`, the ids
/// `distill prepare` prints, padded with -1) in; the mean of the rows of the valid ids (zeros for a line without
/// features) → optional ReLU layer → classifier → `logits` and `probabilities` (`[batch, labels]`, the
/// probabilities tempered by the decision rule's temperature) out.
enum NGramBagONNX {
    /// The padding id of `feature_ids`.
    static let padding: Int64 = -1

    static func graph(_ model: NGramBag, temperature: Float) throws -> ONNXGraphBuilder {
        let w = model.stateDict()
        var g = ONNXGraphBuilder(name: "distill_ngram_bag")
        let batch = ONNXGraphBuilder.Dimension.named("batch")
        let ids = g.input("feature_ids", .int64, [batch, .named("features")])
        let valid = g.node("Cast", [g.node("GreaterOrEqual", [ids, g.constant([0], "zero", scalar: true)])],
                           [.int("to", Int64(ONNXGraphBuilder.ElementType.float.rawValue))], hint: "valid")
        let safe = g.node("Max", [ids, g.constant([0], "zero", scalar: true)], hint: "safe_ids")
        let rows = g.node("Gather", [g.weight("embeddings.weight", try ONNXGraphBuilder.tensor(w, "embeddings.weight")), safe], [.int("axis", 0)], hint: "rows")
        let column = g.node("Unsqueeze", [valid, g.constant([2], "axis2")], hint: "valid_column")
        let sum = g.node("ReduceSum", [g.node("Mul", [rows, column]), g.constant([1], "axis1")], [.int("keepdims", 0)], hint: "sum")
        let count = g.node("Max", [g.node("ReduceSum", [valid, g.constant([1], "axis1")], [.int("keepdims", 1)]), g.constant(1, "one_f")], hint: "count")
        var x = g.node("Div", [sum, count], hint: "mean")
        if model.hidden != nil { x = g.node("Relu", [try g.linear(x, "hidden", w)], hint: "hidden") }
        let logits = try g.linear(x, "classifier", w)
        let labels = ONNXGraphBuilder.Dimension.fixed(model.config.labels.count)
        g.output(logits, as: "logits", .float, [batch, labels])
        let tempered = temperature == 1 ? logits : g.node("Div", [logits, g.constant(temperature, "temperature")], hint: "tempered")
        g.output(g.node("Softmax", [tempered], [.int("axis", -1)], hint: "softmax"), as: "probabilities", .float, [batch, labels])
        return g
    }
}
