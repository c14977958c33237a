import DistillCore
import DistillNN
import DistillText
import Foundation
import Testing

/// The tape-free engines against the differentiable modules they replace at inference time.
@Suite("inference engines", .serialized)
struct InferenceEngineTests {
    /// A small BERT with every parameter (LayerNorms included) drawn from N(0, 0.5²), so a wrong term shows.
    static func randomBert(pooling: Pooling, activation: HiddenActivation = .gelu, heads: Int = 2, hidden: Int = 16, intermediate: Int = 24, labels: Int = 5,
                           seed: UInt64) -> BertForSequenceClassification {
        var config = BertConfig(vocabSize: 60, hiddenSize: hidden, numHiddenLayers: 2, numAttentionHeads: heads, intermediateSize: intermediate,
                                maxPositionEmbeddings: 40, labels: (0..<labels).map { "l\($0)" })
        config.hiddenAct = activation
        config.distillPooling = pooling == .pooler ? nil : pooling
        let model = BertForSequenceClassification(config: config, seed: seed)
        var g = RandomGenerator(seed: seed &+ 99)
        for p in model.namedParameters() {
            let ptr = p.tensor.storage.pointer
            for i in 0..<p.tensor.count { ptr[i] = 0.5 * g.nextNormal() }
        }
        return model
    }

    static func sequences(_ count: Int, maxLength: Int, seed: UInt64) -> [[Int]] {
        var g = RandomGenerator(seed: seed)
        return (0..<count).map { i in
            let length = i == 0 ? 1 : 1 + Int(g.next() % UInt64(maxLength))
            return (0..<length).map { _ in Int(g.next() % 60) }
        }
    }

    /// Logits from the module's padded, masked forward pass (the reference the engine must match).
    static func moduleLogits(_ model: BertForSequenceClassification, _ seqs: [[Int]]) -> [[Float]] {
        let length = seqs.map(\.count).max()!
        var ids: [Int] = [], mask: [Int] = []
        for s in seqs {
            ids += s + Array(repeating: 0, count: length - s.count)
            mask += Array(repeating: 1, count: s.count) + Array(repeating: 0, count: length - s.count)
        }
        let batch = EncodedBatch(inputIDs: ids, tokenTypeIDs: Array(repeating: 0, count: ids.count), attentionMask: mask,
                                 batchSize: seqs.count, sequenceLength: length)
        let logits = withoutGradients { model(batch).logits }
        let k = logits.shape[1], v = logits.scalars
        return (0..<seqs.count).map { Array(v[($0 * k)..<(($0 + 1) * k)]) }
    }

    static func engineRows(_ engine: BertInference, _ seqs: [[Int]], output: BertInference.Output = .logits) -> [[Float]] {
        var out = [[Float]](repeating: [], count: seqs.count)
        let lock = NSLock()
        engine.run(count: seqs.count, output: output, sequence: { seqs[$0] }, write: { i, v in lock.lock(); out[i] = Array(v); lock.unlock() })
        return out
    }

    static func worstDifference(_ a: [[Float]], _ b: [[Float]]) -> Float {
        var worst: Float = 0
        for (x, y) in zip(a, b) {
            #expect(x.count == y.count)
            for (p, q) in zip(x, y) { worst = max(worst, abs(p - q) / max(1, abs(q))) }
        }
        return worst
    }

    @Test("BERT engine logits = the module's padded forward pass", arguments: [
        (Pooling.mean, HiddenActivation.gelu, 2), (.cls, .gelu, 4), (.pooler, .gelu, 1), (.mean, .relu, 2),
    ])
    func bertParity(pooling: Pooling, activation: HiddenActivation, heads: Int) {
        let model = Self.randomBert(pooling: pooling, activation: activation, heads: heads, seed: 7)
        let seqs = Self.sequences(37, maxLength: 40, seed: 3)
        let engine = BertInference(model)
        let got = Self.engineRows(engine, seqs), want = Self.moduleLogits(model, seqs)
        let worst = Self.worstDifference(got, want)
        #expect(worst < 2e-5, "worst relative difference \(worst)")
        // The logits are not degenerate: the check above compares something.
        let first = want.map { $0[0] }
        #expect(first.max()! - first.min()! > 0.1, "logit 0 spans \(first.min()!)...\(first.max()!)")
    }

    @Test("tiles of any size, and one or two threads, give the same logits")
    func tilesAndThreads() {
        let model = Self.randomBert(pooling: .mean, seed: 11)
        let seqs = Self.sequences(50, maxLength: 40, seed: 5)
        let reference = Self.engineRows(BertInference(model, tileTokens: 4096), seqs)
        for tile in [1, 7, 64] {
            let worst = Self.worstDifference(Self.engineRows(BertInference(model, tileTokens: tile), seqs), reference)
            #expect(worst < 1e-5, "tile \(tile): \(worst)")
        }
        defer { ComputeThreads.configure() }  // back to the default (all cores), whatever another suite set meanwhile
        ComputeThreads.configure(threads: 1)
        let one = Self.engineRows(BertInference(model), seqs)
        ComputeThreads.configure(threads: 2)
        let two = Self.engineRows(BertInference(model), seqs)
        #expect(Self.worstDifference(one, reference) < 1e-5 && Self.worstDifference(two, reference) < 1e-5)
    }

    @Test("in steady state a forward pass allocates no workspace memory")
    func steadyState() {
        let model = Self.randomBert(pooling: .pooler, seed: 2)
        let engine = BertInference(model)
        let big = Self.sequences(64, maxLength: 40, seed: 1), small = Self.sequences(9, maxLength: 20, seed: 2)
        let first = Self.engineRows(engine, big)
        let grown = engine.workspaceGrowths
        #expect(grown > 0)
        for _ in 0..<5 {
            #expect(Self.engineRows(engine, big) == first)
            _ = Self.engineRows(engine, small)
        }
        #expect(engine.workspaceGrowths == grown, "workspaces grew from \(grown) to \(engine.workspaceGrowths) on repeated batches")
    }

    @Test("pooled vectors and hidden states match the module's")
    func pooledAndHidden() {
        let model = Self.randomBert(pooling: .mean, seed: 4)
        let seqs = Self.sequences(12, maxLength: 30, seed: 8)
        let engine = BertInference(model)
        let hidden = Self.engineRows(engine, seqs, output: .lastHiddenState)
        let pooled = Self.engineRows(engine, seqs, output: .pooled)
        for (i, s) in seqs.enumerated() {
            let batch = EncodedBatch(inputIDs: s, tokenTypeIDs: Array(repeating: 0, count: s.count), attentionMask: Array(repeating: 1, count: s.count),
                                     batchSize: 1, sequenceLength: s.count)
            let out = withoutGradients { model.bert(batch).lastHiddenState }
            #expect(Self.worstDifference([hidden[i]], [out.scalars]) < 2e-5)
            let mean = meanPool(out, attentionMask: batch.attentionMask)
            #expect(Self.worstDifference([pooled[i]], [mean.scalars]) < 2e-5)
        }
    }

    @Test("n-gram bag engine logits = the module's, with and without a hidden layer", arguments: [0, 12])
    func bagParity(hidden: Int) {
        let featurizer = NGramFeaturizer(buckets: 997, maxWordNGram: 2, minCharNGram: 2, maxCharNGram: 4)
        let model = NGramBag(config: NGramBagConfig(featurizer: featurizer, embeddingSize: 20, hiddenSize: hidden, labels: ["a", "b", "c"]), seed: 5)
        var g = RandomGenerator(seed: 1)
        for p in model.namedParameters() { for i in 0..<p.tensor.count { p.tensor.storage.pointer[i] = g.nextNormal() } }
        let texts = ["ERROR db timeout after 30s", "", "   ", "Connexion refusée à 10.0.0.1 — réessai", "disk /dev/sda1 full",
                     String(repeating: "token ", count: 5000)] + (0..<200).map { "user u\($0) login failed from host-\($0 % 7)" }
        let engine = NGramBagInference(model)
        var got = [[Float]](repeating: [], count: texts.count)
        let lock = NSLock()
        engine.logits(count: texts.count, text: { texts[$0] }, write: { i, v in lock.lock(); got[i] = Array(v); lock.unlock() })
        let logits = withoutGradients { model(texts) }
        let want = (0..<texts.count).map { Array(logits.scalars[($0 * 3)..<(($0 + 1) * 3)]) }
        #expect(Self.worstDifference(got, want) < 1e-5)
        // An empty text is the bias alone (a zero bag).
        if hidden == 0 { #expect(got[1] == model.classifier.bias!.scalars) }
        let grown = engine.workspaceGrowths
        engine.logits(count: texts.count, text: { texts[$0] }, write: { _, _ in })
        #expect(engine.workspaceGrowths == grown)
    }

    @Test("one or few sequences: the large GEMMs are split over the threads instead, same logits")
    func splitGemms() {
        // 2 x 40 x 512 x 128 flops per feed-forward GEMM: above the size BLAS.sgemm splits.
        let model = Self.randomBert(pooling: .pooler, heads: 4, hidden: 128, intermediate: 512, seed: 21)
        let engine = BertInference(model)
        for seqs in [Self.sequences(1, maxLength: 40, seed: 9).map { _ in (0..<40).map { $0 % 60 } }, Self.sequences(3, maxLength: 40, seed: 10)] {
            let worst = Self.worstDifference(Self.engineRows(engine, seqs), Self.moduleLogits(model, seqs))
            #expect(worst < 2e-5, "\(seqs.count) sequences: \(worst)")
        }
    }

    @Test("weights changed after the engine was built are the ones used (nothing is copied)")
    func liveWeights() {
        let model = Self.randomBert(pooling: .mean, seed: 13)
        let engine = BertInference(model)
        let seqs = Self.sequences(6, maxLength: 20, seed: 4)
        let before = Self.engineRows(engine, seqs)
        for p in model.namedParameters() where p.name.contains("attention.self.") || p.name.hasPrefix("classifier.") {
            p.tensor.withUnsafeMutableBufferPointer { for i in $0.indices { $0[i] *= 1.5 } }
        }
        let after = Self.engineRows(engine, seqs)
        #expect(Self.worstDifference(after, Self.moduleLogits(model, seqs)) < 2e-5)
        #expect(Self.worstDifference(after, before) > 1e-2)
    }

    @Test("one featurizer scratch reused over long and short texts gives each text's own features")
    func scratchReuse() {
        let f = NGramFeaturizer(buckets: 1 << 16)
        var scratch = NGramFeaturizer.Scratch()
        let texts = [String(repeating: "GET /api/v1/users?id=42 HTTP/1.1 500 ", count: 40), "a", "", "disk full", "x y z w", "ERROR db"]
        for text in texts + texts.reversed() {
            var seen: [Int] = []
            f.forEachFeature(text, scratch: &scratch) { seen.append($0) }
            #expect(seen == f.unicodeFeatures(text), "\(text.prefix(30))")  // the independent reference path
        }
    }
}
