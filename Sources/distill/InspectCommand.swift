import ArgumentParser
import DistillNN
import Foundation

/// `distill inspect`: what is in a model folder.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show a model folder's architecture, parameter count, tensors and size on disk."
    )

    @Argument(help: "Model folder (config.json + model.safetensors).")
    var folder: String

    @Flag(help: "List every tensor (default: the first 40).")
    var all = false

    func run() throws {
        let dir = URL(fileURLWithPath: folder)
        let configURL = dir.appendingPathComponent("config.json")
        let weights = try SafetensorsFile(url: dir.appendingPathComponent("model.safetensors"))
        var lines: [String] = ["folder: \(dir.path)"]
        if let data = try? Data(contentsOf: configURL), let config = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
            let type = config["model_type"] as? String ?? "?"
            lines.append("model_type: \(type)  architectures: \((config["architectures"] as? [String])?.joined(separator: ", ") ?? "-")")
            if type == "bert" {
                let bert = try BertConfig.read(from: configURL)
                lines.append("encoder: \(bert.numHiddenLayers) layers x \(bert.hiddenSize) wide, \(bert.numAttentionHeads) heads, "
                             + "FFN \(bert.intermediateSize), \(bert.hiddenAct), vocab \(bert.vocabSize), max positions \(bert.maxPositionEmbeddings)")
                if let labels = bert.labels { lines.append("labels (\(labels.count)): \(labels.joined(separator: ", "))") }
            } else if let labels = config["id2label"] as? [String: String] {
                lines.append("labels (\(labels.count)): \((0..<labels.count).compactMap { labels[String($0)] }.joined(separator: ", "))")
            }
        } else {
            lines.append("config.json: missing or not JSON")
        }
        let parameters = weights.weightEntries.reduce(0) { $0 + $1.elementCount }
        lines.append("parameters: \(grouped(parameters)) in \(weights.entries.count) tensors (\(weights.metadata.isEmpty ? "no metadata" : "metadata \(weights.metadata)"))")
        var total = 0
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dir.path))?.sorted() ?? [] {
            let size = ((try? FileManager.default.attributesOfItem(atPath: dir.appendingPathComponent(name).path))?[.size] as? Int) ?? 0
            total += size
        }
        lines.append("size on disk: \(String(format: "%.2f", Double(total) / 1_048_576)) MiB (model.safetensors \(String(format: "%.2f", Double(weights.fileSize) / 1_048_576)) MiB)")
        lines.append("tensors:")
        let shown = all ? weights.entries : Array(weights.entries.prefix(40))
        let width = shown.map(\.name.count).max() ?? 0
        for e in shown {
            lines.append("  " + e.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  \(e.dtype.rawValue)  \(e.shape)")
        }
        if shown.count < weights.entries.count { lines.append("  … \(weights.entries.count - shown.count) more (--all lists them)") }
        print(lines.joined(separator: "\n"))
    }

    private func grouped(_ n: Int) -> String {
        let f = NumberFormatter()
        f.numberStyle = .decimal
        f.groupingSeparator = ","
        return f.string(from: NSNumber(value: n)) ?? "\(n)"
    }
}
