import DistillCore
import DistillNN
import DistillText
import Foundation
import Testing

@Suite("Module tree, BERT and its gradients")
struct ModuleTests {
    static let tiny = BertConfig(vocabSize: 40, hiddenSize: 8, numHiddenLayers: 2, numAttentionHeads: 2, intermediateSize: 12,
                                 maxPositionEmbeddings: 16, labels: ["db", "net", "ok"])

    func batch() -> EncodedBatch {
        EncodedBatch(inputIDs: [2, 5, 9, 3, 0, 2, 7, 3, 0, 0], tokenTypeIDs: Array(repeating: 0, count: 10),
                     attentionMask: [1, 1, 1, 1, 0, 1, 1, 1, 0, 0], batchSize: 2, sequenceLength: 5)
    }

    @Test("parameter names are Hugging Face's")
    func names() {
        let model = BertForSequenceClassification(config: Self.tiny)
        let names = model.namedParameters().map(\.name)
        for expected in ["bert.embeddings.word_embeddings.weight", "bert.embeddings.LayerNorm.weight",
                         "bert.encoder.layer.1.attention.self.query.weight", "bert.encoder.layer.0.attention.output.LayerNorm.bias",
                         "bert.encoder.layer.1.intermediate.dense.weight", "bert.encoder.layer.1.output.dense.bias",
                         "bert.pooler.dense.weight", "classifier.weight", "classifier.bias"] {
            #expect(names.contains(expected), "\(expected)")
        }
        #expect(names.count == 5 + 2 * 16 + 2 + 2)
    }

    @Test("freeze and unfreeze by prefix")
    func freezing() {
        let model = BertForSequenceClassification(config: Self.tiny)
        #expect(model.freeze(prefix: "bert.embeddings") == 5)
        #expect(model.freeze(prefix: "bert.encoder.layer.0") == 16)
        #expect(model.trainableParameters.count == model.namedParameters().count - 21)
        model.unfreeze()
        #expect(model.trainableParameters.count == model.namedParameters().count)
        #expect(model.freeze(prefix: "bert.encoder.layer.1") == 16)  // "layer.1" must not match "layer.10"-style names
    }

    @Test("loading reports missing, unexpected and mis-shaped tensors by name")
    func loadReport() throws {
        let source = BertForSequenceClassification(config: Self.tiny, seed: 1)
        let target = BertForSequenceClassification(config: Self.tiny, seed: 2)
        var tensors = source.stateDict()
        tensors.removeValue(forKey: "classifier.bias")
        tensors["extra.weight"] = Tensor(zeros: [1])
        tensors["bert.pooler.dense.bias"] = Tensor(zeros: [3])
        do {
            try target.load(tensors, source: "test")
            Issue.record("strict load accepted bad weights")
        } catch let ModelError.incompatibleWeights(report, _) {
            #expect(report.missing == ["classifier.bias"])
            #expect(report.unexpected == ["extra.weight"])
            #expect(report.misshaped == ["bert.pooler.dense.bias expects [8], found [3]"])
        }
        tensors["bert.pooler.dense.bias"] = source.bert.pooler!.bias!
        let report = try target.load(tensors, allowMissing: ["classifier."])
        #expect(report.missing.isEmpty && report.loaded == target.namedParameters().count - 1)
        #expect(target.bert.embeddings.wordEmbeddings.weight.scalars == source.bert.embeddings.wordEmbeddings.weight.scalars)
    }

    @Test("config.json round trip and validation errors name the key")
    func config() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cfg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent("config.json")
        try Self.tiny.write(to: url)
        let back = try BertConfig.read(from: url)
        #expect(back == Self.tiny && back.labels == ["db", "net", "ok"])
        try Data(#"{"vocab_size": 10, "hidden_size": 6, "num_hidden_layers": 1, "num_attention_heads": 4, "intermediate_size": 8}"#.utf8).write(to: url)
        #expect(throws: ModelError.invalidConfig(path: url.path, key: "num_attention_heads", detail: "hidden_size 6 is not divisible by 4 heads")) {
            try BertConfig.read(from: url)
        }
        try Data(#"{"vocab_size": "ten", "hidden_size": 6}"#.utf8).write(to: url)
        do { _ = try BertConfig.read(from: url); Issue.record("accepted a string vocab_size") } catch let ModelError.invalidConfig(_, key, _) {
            #expect(key == "vocab_size")
        }
    }

    @Test("padding does not change a sequence's outputs")
    func paddingInvariance() {
        let model = BertForSequenceClassification(config: Self.tiny, seed: 3)
        let padded = model(batch()).logits.scalars
        let alone = model(EncodedBatch(inputIDs: [2, 7, 3], tokenTypeIDs: [0, 0, 0], attentionMask: [1, 1, 1], batchSize: 1, sequenceLength: 3)).logits.scalars
        for (a, b) in zip(Array(padded[3..<6]), alone) { #expect(abs(a - b) < 1e-5) }
    }

    @Test("gradient check of a whole 2-layer tiny BERT (loss w.r.t. a sample of parameters)")
    func tinyBertGradients() {
        let model = BertForSequenceClassification(config: Self.tiny, seed: 5)
        let b = batch()
        let params = model.namedParameters()
        let sample = params.filter { p in
            ["bert.embeddings.word_embeddings.weight", "bert.embeddings.LayerNorm.weight", "bert.encoder.layer.0.attention.self.query.weight",
             "bert.encoder.layer.1.attention.self.key.bias", "bert.encoder.layer.0.intermediate.dense.weight",
             "bert.encoder.layer.1.output.LayerNorm.bias", "bert.pooler.dense.weight", "classifier.weight"].contains(p.name)
        }
        #expect(sample.count == 8)
        // Weights at N(0, 0.02²) make every gradient tiny; scale them up so differences are measurable.
        for p in params where p.tensor.rank == 2 { p.tensor.withUnsafeMutableBufferPointer { for i in $0.indices { $0[i] *= 20 } } }
        let results = GradientCheck.check(sample.map(\.tensor), maxElementsPerInput: 24) {
            softmaxCrossEntropy(logits: model(b).logits, targets: [0, 2])
        }
        for (p, r) in zip(sample, results) { #expect(r.maxRelativeError <= 2e-2, "\(p.name): \(r)") }
    }
}
