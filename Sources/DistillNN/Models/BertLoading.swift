import DistillCore
import Foundation

extension BertModel {
    /// Loads a Hugging Face BERT folder (`config.json` + `model.safetensors`) as an encoder. Works for
    /// `BertModel` checkpoints and for the `bert.` part of `BertForSequenceClassification` ones; other
    /// tensors (a classifier, `position_ids`) are ignored. Missing or mis-shaped encoder tensors throw,
    /// naming them.
    public static func load(folder: URL) throws -> BertModel {
        try checkModelFolder(folder)
        let configURL = folder.appendingPathComponent("config.json")
        let config = try BertConfig.read(from: configURL)
        let file = try SafetensorsFile(url: folder.appendingPathComponent("model.safetensors"))
        let prefixed = file.names.contains { $0.hasPrefix("bert.") }
        try config.check(against: file, prefix: prefixed ? "bert." : "", path: configURL.path)
        let rename: (String) -> String? = { name in
            guard prefixed else { return name }
            return name.hasPrefix("bert.") ? String(name.dropFirst(5)) : nil
        }
        let withPooler = file.names.contains { rename($0) == "pooler.dense.weight" }
        let model = BertModel(config: config, withPooler: withPooler, seed: nil)
        try model.load(from: file, rename: rename)
        return model
    }
}

extension BertForSequenceClassification {
    /// Loads a Hugging Face folder as a classifier. A plain `BertModel` checkpoint (no `bert.` prefix, no
    /// classifier) loads when `newHead` is true: the encoder comes from the file and the head is freshly
    /// initialized with `config.labels` (pass `labels` to set them).
    public static func load(folder: URL, newHead: Bool = false, labels: [String]? = nil, pooling: Pooling? = nil,
                            seed: UInt64 = 0) throws -> BertForSequenceClassification {
        try checkModelFolder(folder)
        let configURL = folder.appendingPathComponent("config.json")
        var config = try BertConfig.read(from: configURL)
        if let labels { config.labels = labels }
        if let pooling { config.distillPooling = pooling }  // e.g. .mean for sentence-transformers checkpoints
        let file = try SafetensorsFile(url: folder.appendingPathComponent("model.safetensors"))
        let prefixed = file.names.contains { $0.hasPrefix("bert.") }
        try config.check(against: file, prefix: prefixed ? "bert." : "", path: configURL.path)
        if !newHead, let labels = config.labels {
            try ModelLimits.check(file, tensor: "classifier.weight", hasShape: [labels.count, config.hiddenSize], keys: "id2label", configPath: configURL.path)
        }
        let rename: (String) -> String? = { name in
            if name.hasPrefix("classifier.") { return newHead ? nil : name }  // a new head ignores the old one
            return prefixed ? name : "bert." + name
        }
        if config.distillPooling == nil && !file.names.contains(where: { rename($0) == "bert.pooler.dense.weight" }) {
            config.distillPooling = .cls
        }
        let model = BertForSequenceClassification(config: config, seed: newHead ? seed : nil)
        // A pooling without the pooler layer ignores the checkpoint's pooler weights.
        let skipPooler: (String) -> String? = { name in
            guard let mapped = rename(name) else { return nil }
            return model.bert.pooler == nil && mapped.hasPrefix("bert.pooler.") ? nil : mapped
        }
        try model.load(from: file, allowMissing: newHead ? ["classifier."] : [], rename: skipPooler)
        return model
    }
}
