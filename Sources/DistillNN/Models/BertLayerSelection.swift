import DistillCore

extension BertForSequenceClassification {
    /// `count` of `total` encoder layers, evenly spaced and ending with the last one (`[2, 5]` for 2 of 6,
    /// `[1, 3, 5]` for 3 of 6): the last layer feeds the classification head, the others keep the spread of depths.
    public static func evenlySpacedLayers(_ count: Int, of total: Int) -> [Int] {
        guard count > 0, total > 0 else { return [] }
        let k = min(count, total)
        return (1...k).map { ($0 * total + k - 1) / k - 1 }
    }

    /// A shallower copy of this model: its embeddings, pooler and classification head, and the encoder layers
    /// `layers` (0-based, strictly increasing) of this model as layers 0, 1, … of the copy. Nothing is shared.
    ///
    /// With `maxPositions`, only the first that many position embeddings are kept (a student that reads
    /// 64 tokens needs no row for position 500).
    public func keepingLayers(_ layers: [Int], maxPositions: Int? = nil) throws -> BertForSequenceClassification {
        let total = config.numHiddenLayers
        guard !layers.isEmpty, layers.allSatisfy({ (0..<total).contains($0) }), zip(layers, layers.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw ModelError.invalidConfig(path: "teacher_layers", key: "teacher_layers",
                                           detail: "expected increasing layer indices within 0..<\(total), got \(layers)")
        }
        var c = config
        c.numHiddenLayers = layers.count
        if let maxPositions { c.maxPositionEmbeddings = max(1, min(maxPositions, config.maxPositionEmbeddings)) }
        let copy = BertForSequenceClassification(config: c, seed: nil)
        let source = stateDict()
        let positions = "bert.embeddings.position_embeddings.weight"
        var tensors: [String: Tensor] = [:]
        for p in copy.namedParameters() {
            var name = p.name
            let prefix = "bert.encoder.layer."
            if name.hasPrefix(prefix) {
                let rest = name.dropFirst(prefix.count)
                guard let dot = rest.firstIndex(of: "."), let i = Int(rest[..<dot]) else { continue }
                name = prefix + String(layers[i]) + String(rest[dot...])
            }
            guard let t = source[name] else { continue }
            if name == positions && t.shape != p.tensor.shape {
                let width = t.shape[1], rows = p.tensor.shape[0]
                tensors[p.name] = t.withUnsafeBufferPointer { Tensor(shape: [rows, width], scalars: Array($0[0..<(rows * width)])) }
            } else {
                tensors[p.name] = t
            }
        }
        try copy.load(tensors, strict: true, source: "teacher layers \(layers)")
        return copy
    }
}
