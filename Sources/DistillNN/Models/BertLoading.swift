import DistillCore
import Foundation

extension BertModel {
    /// Loads a Hugging Face BERT folder (`config.json` + `model.safetensors`) as an encoder. Works for
    /// `BertModel` checkpoints and for the `bert.` part of `BertForSequenceClassification` ones; other
    /// tensors (a classifier, `position_ids`) are ignored. Missing or mis-shaped encoder tensors throw,
    /// naming them.
    public static func load(folder: URL) throws -> BertModel {
        let config = try BertConfig.read(from: folder.appendingPathComponent("config.json"))
        let file = try SafetensorsFile(url: folder.appendingPathComponent("model.safetensors"))
        var tensors = try file.floatTensors()
        if tensors.keys.contains(where: { $0.hasPrefix("bert.") }) {
            tensors = Dictionary(uniqueKeysWithValues: tensors.compactMap { k, v in k.hasPrefix("bert.") ? (String(k.dropFirst(5)), v) : nil })
        }
        let model = BertModel(config: config, withPooler: tensors["pooler.dense.weight"] != nil, seed: nil)
        try model.load(tensors, source: file.path)
        return model
    }
}

extension BertForSequenceClassification {
    /// Loads a Hugging Face folder as a classifier. A plain `BertModel` checkpoint (no `bert.` prefix, no
    /// classifier) loads when `newHead` is true: the encoder comes from the file and the head is freshly
    /// initialized with `config.labels` (pass `labels` to set them).
    public static func load(folder: URL, newHead: Bool = false, labels: [String]? = nil, seed: UInt64 = 0) throws -> BertForSequenceClassification {
        var config = try BertConfig.read(from: folder.appendingPathComponent("config.json"))
        if let labels { config.labels = labels }
        let file = try SafetensorsFile(url: folder.appendingPathComponent("model.safetensors"))
        var tensors = try file.floatTensors()
        if !tensors.keys.contains(where: { $0.hasPrefix("bert.") }) {
            tensors = Dictionary(uniqueKeysWithValues: tensors.map { ("bert." + $0.key, $0.value) })
        }
        if config.distillPooling == nil && tensors["bert.pooler.dense.weight"] == nil { config.distillPooling = "cls" }
        let model = BertForSequenceClassification(config: config, seed: seed)
        try model.load(tensors, allowMissing: newHead ? ["classifier."] : [], source: file.path)
        return model
    }
}
