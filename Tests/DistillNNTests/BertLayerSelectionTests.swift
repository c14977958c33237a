import DistillCore
import DistillNN
import DistillText
import Testing

@Suite("Cutting a student from a teacher's layers")
struct BertLayerSelectionTests {
    /// ModuleTests' tiny BERT with a third layer.
    static let teacher: BertConfig = {
        var c = ModuleTests.tiny
        c.numHiddenLayers = 3
        return c
    }()

    func batch() -> EncodedBatch { ModuleTests().batch() }

    @Test("evenly spaced layers end with the last one")
    func spacing() {
        #expect(BertForSequenceClassification.evenlySpacedLayers(2, of: 6) == [2, 5])
        #expect(BertForSequenceClassification.evenlySpacedLayers(3, of: 6) == [1, 3, 5])
        #expect(BertForSequenceClassification.evenlySpacedLayers(4, of: 6) == [1, 2, 4, 5])
        #expect(BertForSequenceClassification.evenlySpacedLayers(1, of: 6) == [5])
        #expect(BertForSequenceClassification.evenlySpacedLayers(6, of: 6) == Array(0..<6))
        #expect(BertForSequenceClassification.evenlySpacedLayers(9, of: 6) == Array(0..<6))
        #expect(BertForSequenceClassification.evenlySpacedLayers(0, of: 6).isEmpty)
    }

    @Test("the cut copies the chosen layers, embeddings and head, and keeps the first positions")
    func copiesWeights() throws {
        let model = BertForSequenceClassification(config: Self.teacher, seed: 3)
        let cut = try model.keepingLayers([0, 2], maxPositions: 6)
        #expect(cut.config.numHiddenLayers == 2 && cut.config.maxPositionEmbeddings == 6)
        let a = model.stateDict(), b = cut.stateDict()
        #expect(b.count == a.count - 16)
        #expect(b["bert.encoder.layer.1.attention.self.query.weight"]!.scalars == a["bert.encoder.layer.2.attention.self.query.weight"]!.scalars)
        #expect(b["bert.encoder.layer.0.output.dense.bias"]!.scalars == a["bert.encoder.layer.0.output.dense.bias"]!.scalars)
        #expect(b["classifier.weight"]!.scalars == a["classifier.weight"]!.scalars)
        #expect(b["bert.embeddings.position_embeddings.weight"]!.shape == [6, 8])
        #expect(b["bert.embeddings.position_embeddings.weight"]!.scalars == Array(a["bert.embeddings.position_embeddings.weight"]!.scalars[0..<48]))
        // Nothing is shared: training the cut leaves the teacher as it was.
        b["classifier.weight"]!.withUnsafeMutableBufferPointer { $0[0] += 1 }
        #expect(b["classifier.weight"]!.scalars != a["classifier.weight"]!.scalars)
    }

    @Test("keeping every layer gives the teacher's logits exactly")
    func identity() throws {
        let model = BertForSequenceClassification(config: Self.teacher, seed: 4)
        let cut = try model.keepingLayers([0, 1, 2], maxPositions: 8)
        let expected = withoutGradients { model(batch()).logits.scalars }
        let got = withoutGradients { cut(batch()).logits.scalars }
        #expect(got == expected)
        let shallow = withoutGradients { try! model.keepingLayers([2])(batch()).logits.scalars }
        #expect(shallow != expected)
    }

    @Test("layer lists outside the teacher or out of order are refused")
    func refusals() {
        let model = BertForSequenceClassification(config: Self.teacher, seed: 5)
        for bad in [[], [3], [1, 0], [1, 1], [-1]] {
            #expect(throws: ModelError.self) { try model.keepingLayers(bad) }
        }
    }
}
