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
        try Data(#"{"vocab_size": 10, "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 4, "intermediate_size": 8, "hidden_act": "swish"}"#.utf8).write(to: url)
        #expect(throws: ModelError.invalidConfig(path: url.path, key: "hidden_act", detail: "'swish' is not supported (use gelu or relu)")) {
            try BertConfig.read(from: url)
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

@Suite("N-gram bag student")
struct NGramBagTests {
    @Test("features are deterministic, hashed into range, and cover word and char n-grams")
    func features() {
        let f = NGramFeaturizer(buckets: 1000, maxWordNGram: 2, minCharNGram: 3, maxCharNGram: 4)
        let a = f.features("Disk FULL on /dev/sda1")
        #expect(a == f.features("disk full on /dev/sda1"))  // lowercased
        #expect(a.allSatisfy { (0..<1000).contains($0) })
        // words: disk full on / dev / sda1 → 7 unigrams + 6 bigrams; chars of each <word> with n = 3, 4
        let words = ["disk", "full", "on", "/", "dev", "/", "sda1"]
        let chars = words.map { w -> Int in let n = w.count + 2; return max(0, n - 2) + max(0, n - 3) }.reduce(0, +)
        #expect(a.count == 7 + 6 + chars)
        #expect(f.features("") == [])
        let (indices, offsets) = f.batch(["a b", "", "c"])
        #expect(offsets == [0, f.features("a b").count, f.features("a b").count] && indices.count == f.features("a b").count + f.features("c").count)
    }

    @Test("gradient check of the bag model (loss w.r.t. every parameter, sampled)")
    func gradients() {
        let config = NGramBagConfig(featurizer: NGramFeaturizer(buckets: 50, maxWordNGram: 2, minCharNGram: 2, maxCharNGram: 3),
                                    embeddingSize: 6, hiddenSize: 5, labels: ["a", "b", "c"])
        let model = NGramBag(config: config, seed: 2)
        // Scale weights up and move biases off 0, so the empty text's zero vector is not at ReLU's kink.
        for p in model.namedParameters() { p.tensor.withUnsafeMutableBufferPointer { for i in $0.indices { $0[i] = $0[i] * 3 + 0.15 * Float(i % 3 + 1) } } }
        let texts = ["connection refused", "disk full", "ok ok ok", ""]
        let results = GradientCheck.check(model.namedParameters().map(\.tensor), maxElementsPerInput: 40) {
            softmaxCrossEntropy(logits: model(texts), targets: [0, 1, 2, 1])
        }
        for (p, r) in zip(model.namedParameters(), results) { #expect(r.maxRelativeError <= 2e-2, "\(p.name): \(r)") }
    }
}

@Suite("BERT outputs and modes")
struct BertOutputTests {
    @Test("attention probabilities: one per layer, [B, heads, S, S], rows sum to 1, padded keys get 0")
    func attentions() {
        let model = BertModel(config: ModuleTests.tiny, seed: 4)
        let batch = EncodedBatch(inputIDs: [2, 5, 9, 3, 0, 2, 7, 3, 0, 0], tokenTypeIDs: Array(repeating: 0, count: 10),
                                 attentionMask: [1, 1, 1, 1, 0, 1, 1, 1, 0, 0], batchSize: 2, sequenceLength: 5)
        let out = model(batch, outputHiddenStates: true, outputAttentions: true)
        #expect(out.attentions.count == 2 && out.hiddenStates.count == 3)
        #expect(out.attentions.allSatisfy { $0.shape == [2, 2, 5, 5] })
        let p = out.attentions[1].scalars
        for row in 0..<(2 * 2 * 5) {
            let r = Array(p[(row * 5)..<(row * 5 + 5)])
            #expect(abs(r.reduce(0, +) - 1) < 1e-5)
            let b = row / 10
            for k in 0..<5 where batch.attentionMask[b * 5 + k] == 0 { #expect(r[k] == 0) }
        }
        #expect(out.hiddenStates[2].scalars == out.lastHiddenState.scalars)
    }

    @Test("training mode applies dropout from the context's seed; inference is deterministic")
    func modes() {
        let model = BertForSequenceClassification(config: ModuleTests.tiny, seed: 6)
        let batch = EncodedBatch(inputIDs: [2, 5, 9, 3], tokenTypeIDs: [0, 0, 0, 0], attentionMask: [1, 1, 1, 1], batchSize: 1, sequenceLength: 4)
        let a = model(batch).logits.scalars, b = model(batch).logits.scalars
        #expect(a == b)
        let t1 = model(batch, context: ForwardContext(training: true, seed: 1)).logits.scalars
        let t2 = model(batch, context: ForwardContext(training: true, seed: 1)).logits.scalars
        let t3 = model(batch, context: ForwardContext(training: true, seed: 2)).logits.scalars
        #expect(t1 == t2 && t1 != a && t1 != t3)
    }
}
