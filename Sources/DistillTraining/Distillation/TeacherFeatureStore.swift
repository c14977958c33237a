import DistillCore
import DistillNN
import DistillText
import Foundation

/// A white-box teacher's mapped-layer hidden states and attention maps for every training example, computed
/// once and stored in FP16 (`teachers/NAME.features.safetensors`), so the student trains without the teacher in
/// memory and the teacher's forward pass is paid once per dataset, not once per epoch.
///
/// Layout: `hidden.L` `[N, S, D]` and `attention.L` `[N, H, S, S]` per mapped teacher layer `L`, and `lengths`
/// `[N]`, where `S` is the longest tokenized example (at most the training `max_length`); positions past an
/// example's length are zero. Batches read only their rows from the memory-mapped file.
///
/// Size per example: `2 bytes × layers × (S·D + H·S²)`. For a 6x384 MiniLM teacher with 12 heads, two mapped
/// layers and S = 48: 2 × 2 × (48·384 + 12·48²) = 184,320 bytes, so 10,000 examples take 1.8 GB on disk and only
/// the batch in memory. Above ``maximumBytes`` the run recomputes teacher features per batch instead.
public final class TeacherFeatureStore {
    public let file: SafetensorsFile
    public let hiddenLayers: [Int], attentionLayers: [Int]
    public let sequenceLength: Int
    let lengths: [Int]

    /// Default size limit for building a store (4 GiB; building holds the FP16 arrays in memory once, then streams
    /// them to disk); beyond it intermediate losses recompute on the fly.
    public static let maximumBytes = 4 << 30

    /// Bytes a store would take.
    public static func estimatedBytes(examples: Int, sequenceLength: Int, hidden: Int, heads: Int, hiddenLayers: Int, attentionLayers: Int) -> Int {
        2 * examples * (hiddenLayers * sequenceLength * hidden + attentionLayers * heads * sequenceLength * sequenceLength)
    }

    /// Opens `url` when it exists and matches `key`, else computes the features with `teacher` and writes it.
    public static func openOrBuild(url: URL, key: String, teacher: BertModel, tokenizer: WordPieceTokenizer, texts: [String],
                                   hiddenLayers: [Int], attentionLayers: [Int], valueRelationLayer: Int? = nil, maxLength: Int,
                                   batchSize: Int = 32) throws -> TeacherFeatureStore {
        if let existing = try? SafetensorsFile(url: url), existing.metadata["key"] == key {
            return try TeacherFeatureStore(file: existing, hiddenLayers: hiddenLayers, attentionLayers: attentionLayers)
        }
        // The value relation is stored like an attention map, under its own name.
        let relationLayers = valueRelationLayer.map { [$0] } ?? []
        let limit = min(maxLength, teacher.config.maxPositionEmbeddings)
        let lengths = texts.map { tokenizer.encode($0, maxLength: limit).count }
        let s = lengths.max() ?? 2
        let (d, h, n) = (teacher.config.hiddenSize, teacher.config.numAttentionHeads, texts.count)
        var hidden = hiddenLayers.map { _ in [UInt16](repeating: 0, count: n * s * d) }
        var attention = (attentionLayers + relationLayers).map { _ in [UInt16](repeating: 0, count: n * h * s * s) }
        for start in stride(from: 0, to: n, by: batchSize) {
            let rows = start..<min(start + batchSize, n)
            let batch = tokenizer.encodeBatch(Array(texts[rows]), maxLength: limit)
            let out = withoutGradients { teacher(batch, outputHiddenStates: !hiddenLayers.isEmpty, outputAttentions: !attentionLayers.isEmpty,
                                                 outputValues: !relationLayers.isEmpty) }
            let relations = relationLayers.map { l in withoutGradients { DistillTraining.valueRelation(out.values[l - 1], attentionMask: batch.attentionMask) } }
            let bs = batch.sequenceLength
            for (k, layer) in hiddenLayers.enumerated() {
                let v = out.hiddenStates[layer].scalars
                for (bi, i) in rows.enumerated() {
                    for t in 0..<lengths[i] {
                        let to: Int = (i * s + t) * d, from: Int = (bi * bs + t) * d
                        for j in 0..<d { hidden[k][to + j] = v[from + j].float16Bits }
                    }
                }
            }
            for (k, layer) in (attentionLayers + relationLayers).enumerated() {
                let v = k < attentionLayers.count ? out.attentions[layer - 1].scalars : relations[k - attentionLayers.count].scalars
                for (bi, i) in rows.enumerated() {
                    for hh in 0..<h {
                        for q in 0..<lengths[i] {
                            let to: Int = ((i * h + hh) * s + q) * s, from: Int = ((bi * h + hh) * bs + q) * bs
                            for kk in 0..<lengths[i] { attention[k][to + kk] = v[from + kk].float16Bits }
                        }
                    }
                }
            }
        }
        var tensors: [String: (shape: [Int], bits: [UInt16])] = ["lengths": ([n], lengths.map { Float($0).float16Bits })]
        for (k, layer) in hiddenLayers.enumerated() { tensors["hidden.\(layer)"] = ([n, s, d], hidden[k]) }
        for (k, layer) in attentionLayers.enumerated() { tensors["attention.\(layer)"] = ([n, h, s, s], attention[k]) }
        for (k, layer) in relationLayers.enumerated() { tensors["value_relation.\(layer)"] = ([n, h, s, s], attention[attentionLayers.count + k]) }
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try SafetensorsWriter.writeFloat16(tensors, to: url, metadata: ["key": key, "sequence_length": String(s)])
        return try TeacherFeatureStore(file: SafetensorsFile(url: url), hiddenLayers: hiddenLayers, attentionLayers: attentionLayers)
    }

    init(file: SafetensorsFile, hiddenLayers: [Int], attentionLayers: [Int]) throws {
        self.file = file
        self.hiddenLayers = hiddenLayers
        self.attentionLayers = attentionLayers
        lengths = try file.tensor("lengths").scalars.map { Int($0) }
        sequenceLength = file.entry("lengths") != nil ? (Int(file.metadata["sequence_length"] ?? "") ?? 0) : 0
        for layer in hiddenLayers where file.entry("hidden.\(layer)") == nil { throw SafetensorsError.missingTensor(path: file.path, tensor: "hidden.\(layer)") }
        for layer in attentionLayers where file.entry("attention.\(layer)") == nil { throw SafetensorsError.missingTensor(path: file.path, tensor: "attention.\(layer)") }
    }

    /// Teacher hidden states of `layer` for examples `indices`, cropped to `length` positions: `[B, length, D]`.
    public func hidden(layer: Int, indices: [Int], length: Int) throws -> Tensor {
        let d = file.entry("hidden.\(layer)")!.shape[2], s = sequenceLength
        let out = Tensor(zeros: [indices.count, length, d])
        try out.withUnsafeMutableBufferPointer { dst in
            for (b, i) in indices.enumerated() {
                let row = try file.readRows("hidden.\(layer)", i..<(i + 1)).scalars
                for t in 0..<min(length, s) {
                    let to: Int = (b * length + t) * d, from: Int = t * d
                    for j in 0..<d { dst[to + j] = row[from + j] }
                }
            }
        }
        return out
    }

    /// Teacher value relation (MiniLM) of `layer` for `indices`, cropped to `length`: `[B, H, length, length]`.
    public func valueRelation(layer: Int, indices: [Int], length: Int) throws -> Tensor {
        try square(name: "value_relation.\(layer)", indices: indices, length: length)
    }

    /// Teacher attention of `layer` for `indices`, cropped to `length`: `[B, H, length, length]`.
    public func attention(layer: Int, indices: [Int], length: Int) throws -> Tensor {
        try square(name: "attention.\(layer)", indices: indices, length: length)
    }

    private func square(name: String, indices: [Int], length: Int) throws -> Tensor {
        guard let entry = file.entry(name) else { throw SafetensorsError.missingTensor(path: file.path, tensor: name) }
        let h = entry.shape[1], s = sequenceLength
        let out = Tensor(zeros: [indices.count, h, length, length])
        try out.withUnsafeMutableBufferPointer { dst in
            for (b, i) in indices.enumerated() {
                let row = try file.readRows(name, i..<(i + 1)).scalars
                for hh in 0..<h {
                    for q in 0..<min(length, s) {
                        let to: Int = ((b * h + hh) * length + q) * length, from: Int = (hh * s + q) * s
                        for k in 0..<min(length, s) { dst[to + k] = row[from + k] }
                    }
                }
            }
        }
        return out
    }
}
