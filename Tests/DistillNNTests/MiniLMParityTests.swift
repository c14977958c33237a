import DistillCore
import DistillNN
import DistillText
import Foundation
import Testing

/// Distill's BERT on the real all-MiniLM-L6-v2 checkpoint against scripts/minilm_reference.py (float64 numpy).
@Suite("all-MiniLM-L6-v2 parity")
struct MiniLMParityTests {
    struct Reference: Decodable {
        struct Case: Decodable { let text: String; let ids: [Int]; let pooled: [Double] }
        let layers: Int
        let cases: [Case]
    }

    static func loadModel() throws -> (BertModel, LoadReport) {
        let dir = try TestPaths.requireFile(TestPaths.miniLM)
        let config = try BertConfig.read(from: dir.appendingPathComponent("config.json"))
        let file = try SafetensorsFile(url: dir.appendingPathComponent("model.safetensors"))
        let model = BertModel(config: config, seed: nil)
        let report = try model.load(try file.floatTensors(), source: file.path)
        return (model, report)
    }

    /// scripts/minilm_reference.py's sentences (ids, pooled vectors) and per-layer hidden states.
    static func loadReference() throws -> (Reference, SafetensorsFile) {
        let json = try Data(contentsOf: try TestPaths.requireFile(TestPaths.fixtures.appendingPathComponent("minilm_reference.json")))
        return (try JSONDecoder().decode(Reference.self, from: json),
                try SafetensorsFile(url: TestPaths.fixtures.appendingPathComponent("minilm_reference.safetensors")))
    }

    static func cosine(_ a: [Double], _ b: [Double]) -> Double {
        zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } / (sqrt(a.reduce(0) { $0 + $1 * $1 }) * sqrt(b.reduce(0) { $0 + $1 * $1 }))
    }

    @Test("the checkpoint loads with every tensor accounted for")
    func loads() throws {
        let (model, report) = try Self.loadModel()
        #expect(report.missing.isEmpty && report.misshaped.isEmpty)
        #expect(report.unexpected.isEmpty)  // position_ids is an I64 buffer, not a float tensor
        #expect(report.loaded == 103)  // 5 embedding tensors + 6 x 16 layer tensors + 2 pooler
        #expect(model.parameterCount == 22_713_216)
        // The folder loader reads straight from the mapped file; same weights, bit for bit.
        let direct = try BertModel.load(folder: TestPaths.miniLM)
        let a = model.stateDict(), b = direct.stateDict()
        #expect(a.keys.sorted() == b.keys.sorted())
        for (k, v) in a { #expect(v.scalars == b[k]!.scalars, "\(k)") }
        // Loading it into a classifier needs a new head; without one the missing classifier is named.
        #expect(throws: ModelError.self) { try BertForSequenceClassification.load(folder: TestPaths.miniLM) }
        let classifier = try BertForSequenceClassification.load(folder: TestPaths.miniLM, newHead: true, labels: ["a", "b", "c"])
        #expect(classifier.numberOfLabels == 3 && classifier.pooling == .pooler)
        #expect(classifier.bert.embeddings.wordEmbeddings.weight.scalars == a["embeddings.word_embeddings.weight"]!.scalars)
    }

    @Test("hidden states of every layer within 1e-4 and mean-pooled cosine >= 0.99999, padded batch")
    func parity() throws {
        let (model, _) = try Self.loadModel()
        let (reference, states) = try Self.loadReference()
        #expect(reference.cases.count >= 20)
        // One padded batch with every sentence: exercises the attention mask.
        let length = reference.cases.map(\.ids.count).max()!
        var ids: [Int] = [], mask: [Int] = []
        for c in reference.cases {
            ids += c.ids + Array(repeating: 0, count: length - c.ids.count)
            mask += Array(repeating: 1, count: c.ids.count) + Array(repeating: 0, count: length - c.ids.count)
        }
        let batch = EncodedBatch(inputIDs: ids, tokenTypeIDs: Array(repeating: 0, count: ids.count), attentionMask: mask,
                                 batchSize: reference.cases.count, sequenceLength: length)
        let out = model(batch, outputHiddenStates: true)
        #expect(out.hiddenStates.count == reference.layers)
        let pooled = meanPool(out.lastHiddenState, attentionMask: mask)
        var worst = 0.0
        let h = model.config.hiddenSize
        for (i, c) in reference.cases.enumerated() {
            for layer in 0..<reference.layers {
                let want = try states.tensor("s\(i).layer\(layer)").scalars
                let got = out.hiddenStates[layer].scalars
                for t in 0..<c.ids.count {
                    for j in 0..<h {
                        worst = max(worst, abs(Double(got[(i * length + t) * h + j]) - Double(want[t * h + j])))
                    }
                }
            }
            let cosine = Self.cosine(Array(pooled.scalars[(i * h)..<((i + 1) * h)]).map(Double.init), c.pooled)
            #expect(cosine >= 0.99999, "sentence \(i) '\(c.text)': cosine \(cosine)")
        }
        print("MiniLM parity: max |Distill - reference| = \(worst)")
        #expect(worst <= 1e-4, "max |Distill - reference| over all layers and tokens: \(worst)")
    }

    @Test("the inference engine on the real checkpoint: last layer within 1e-4, mean-pooled cosine >= 0.99999")
    func engineParity() throws {
        let (model, _) = try Self.loadModel()
        let (reference, states) = try Self.loadReference()
        let engine = BertInference(encoder: model, pooling: .mean, tileTokens: 64)  // several tiles
        let ids = reference.cases.map(\.ids)
        var hidden = [[Float]](repeating: [], count: ids.count), pooled = hidden
        let lock = NSLock()
        engine.run(count: ids.count, output: .lastHiddenState, sequence: { ids[$0] }, write: { i, v in lock.lock(); hidden[i] = Array(v); lock.unlock() })
        engine.run(count: ids.count, output: .pooled, sequence: { ids[$0] }, write: { i, v in lock.lock(); pooled[i] = Array(v); lock.unlock() })
        var worst = 0.0
        for (i, c) in reference.cases.enumerated() {
            let want = try states.tensor("s\(i).layer\(reference.layers - 1)").scalars
            #expect(hidden[i].count == c.ids.count * 384)
            for (a, b) in zip(hidden[i], want) { worst = max(worst, abs(Double(a) - Double(b))) }
            let cosine = Self.cosine(pooled[i].map(Double.init), c.pooled)
            #expect(cosine >= 0.99999, "sentence \(i): cosine \(cosine)")
        }
        print("MiniLM engine parity: max |engine - reference| = \(worst)")
        #expect(worst <= 1e-4, "max |engine - reference| on the last layer: \(worst)")
    }
}
